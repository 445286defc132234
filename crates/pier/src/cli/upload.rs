//! Request bodies read from a file or stdin as they are sent (`load`, `import`), on a thread
//! of their own so that a large archive is never held in memory.

use std::io::Read;

use api::client::RequestBody;
use bytes::Bytes;
use tokio::sync::mpsc;

const CHUNK: usize = 256 * 1024;

/// A body that streams `reader` as `application/x-tar`.
pub fn reader_body<R: Read + Send + 'static>(mut reader: R) -> RequestBody {
    let (sender, receiver) = mpsc::channel::<std::io::Result<Bytes>>(4);
    std::thread::spawn(move || {
        loop {
            let mut buffer = vec![0u8; CHUNK];
            match reader.read(&mut buffer) {
                Ok(0) => return,
                Ok(n) => {
                    buffer.truncate(n);
                    if sender.blocking_send(Ok(Bytes::from(buffer))).is_err() {
                        return;
                    }
                }
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    let _ = sender.blocking_send(Err(error));
                    return;
                }
            }
        }
    });
    let chunks = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    RequestBody::stream(chunks, "application/x-tar")
}

/// The file at `path`, or stdin for `None` (or `-`).
pub fn file_or_stdin(path: Option<&str>) -> std::io::Result<RequestBody> {
    match path.filter(|p| *p != "-") {
        Some(path) => Ok(reader_body(std::fs::File::open(path)?)),
        None => Ok(reader_body(std::io::stdin())),
    }
}
