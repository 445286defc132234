//! The threads before the tar parser. One reads the compressed stream to its very end (a
//! diff_id covers every uncompressed byte, the zero blocks and padding after the tar's end
//! included) and decompresses it into fixed-size chunks; it hands each chunk both to a
//! hashing thread and, over a bounded channel, to the thread that parses the tar and writes
//! files. Three threads, so that on two cores the scheduler balances inflate, sha256 and the
//! filesystem writes, whichever is heaviest for the layer at hand. A chunk goes back for
//! reuse when both consumers are done with it, so the memory in flight stays bounded
//! (about `2 * DEPTH + 3` chunks).

use std::io::{self, BufReader, Cursor, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread::JoinHandle;

use sha2::{Digest as _, Sha256};

use super::compression::{self, Compression};
use crate::Digest;

/// Bytes per chunk: fits in a core's L2, so the next reader finds it in cache.
const CHUNK: usize = 256 * 1024;
/// Chunks queued for each consumer.
const DEPTH: usize = 8;
/// Buffer of the compressed input.
const INPUT_BUFFER: usize = 256 * 1024;

type Chunk = Arc<Vec<u8>>;

/// Gives a chunk back for reuse if this was its last user.
fn release(chunk: Chunk, recycle: &Sender<Vec<u8>>) {
    if let Ok(buf) = Arc::try_unwrap(chunk) {
        // The reading thread may have finished already; a lost buffer is fine.
        let _ = recycle.send(buf);
    }
}

/// The reading end, given to the tar parser.
pub(crate) struct ChunkReader {
    rx: Receiver<Chunk>,
    recycle: Sender<Vec<u8>>,
    current: Chunk,
    pos: usize,
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.current.len() {
            match self.rx.recv() {
                Ok(next) => {
                    release(std::mem::replace(&mut self.current, next), &self.recycle);
                    self.pos = 0;
                }
                // The reading thread is done: end of stream (its error, if any, comes with
                // join).
                Err(_) => return Ok(0),
            }
        }
        let available = &self.current[self.pos..];
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.pos += n;
        Ok(n)
    }
}

/// The reading and hashing threads, to be finished after the reader is dropped.
pub(crate) struct Producer {
    reader: JoinHandle<io::Result<bool>>,
    hasher: JoinHandle<(Digest, u64)>,
    abort: Arc<AtomicBool>,
}

impl Producer {
    /// Waits for both threads. After a successful unpack (`ok`) the stream has been read and
    /// hashed to its end: the digest and size of the uncompressed stream. Otherwise the
    /// reading thread is told to stop and this gives `Ok(None)`, unless it had failed on its
    /// own first.
    pub(crate) fn finish(self, ok: bool) -> io::Result<Option<(Digest, u64)>> {
        if !ok {
            self.abort.store(true, Ordering::Relaxed);
        }
        let read = self
            .reader
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the decompression thread panicked")));
        // Ends once the reading thread has dropped its sender, whatever happened.
        let hashed = self.hasher.join();
        match (read, hashed) {
            (Err(e), _) => Err(e),
            (Ok(false), _) => Ok(None),
            (Ok(true), Ok(hashed)) => Ok(Some(hashed)),
            (Ok(true), Err(_)) => Err(io::Error::other("the hashing thread panicked")),
        }
    }
}

/// Detects the compression of `reader` (on the caller's thread) and starts the threads.
pub(crate) fn start<R: Read + Send + 'static>(
    mut reader: R,
) -> io::Result<(Compression, ChunkReader, Producer)> {
    let (compression, head) = compression::read_magic(&mut reader)?;
    let input = BufReader::with_capacity(INPUT_BUFFER, Cursor::new(head).chain(reader));
    let (to_parser, from_reader) = mpsc::sync_channel(DEPTH);
    let (to_hasher, for_hasher) = mpsc::sync_channel::<Chunk>(DEPTH);
    let (recycle, recycled) = mpsc::channel();
    let hasher_recycle = recycle.clone();
    let hasher = std::thread::Builder::new()
        .name("pier-layer-hash".into())
        .spawn(move || {
            let mut hasher = Sha256::new();
            let mut total = 0u64;
            for chunk in for_hasher {
                hasher.update(&chunk[..]);
                total += chunk.len() as u64;
                release(chunk, &hasher_recycle);
            }
            (Digest::from_hasher(hasher), total)
        })?;
    let abort = Arc::new(AtomicBool::new(false));
    let stop = Arc::clone(&abort);
    let reader = std::thread::Builder::new()
        .name("pier-layer-read".into())
        .spawn(move || produce(compression, input, to_parser, to_hasher, recycled, &stop))?;
    Ok((
        compression,
        ChunkReader {
            rx: from_reader,
            recycle,
            current: Arc::new(Vec::new()),
            pos: 0,
        },
        Producer {
            reader,
            hasher,
            abort,
        },
    ))
}

/// Reads to the end of the stream: true when it got there, false when told to stop.
fn produce<R: io::BufRead + Send>(
    compression: Compression,
    input: R,
    to_parser: SyncSender<Chunk>,
    to_hasher: SyncSender<Chunk>,
    recycled: Receiver<Vec<u8>>,
    abort: &AtomicBool,
) -> io::Result<bool> {
    let mut stream = compression::decoder(compression, input)?;
    // Once the parser has dropped its end, chunks only go to the hasher.
    let mut parser = Some(to_parser);
    loop {
        if abort.load(Ordering::Relaxed) {
            return Ok(false);
        }
        let mut buf = recycled
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(CHUNK));
        // Grows back to CHUNK; only the bytes past the last fill are zeroed again.
        buf.resize(CHUNK, 0);
        let n = fill(&mut stream, &mut buf)?;
        if n == 0 {
            return Ok(true);
        }
        buf.truncate(n);
        let chunk = Arc::new(buf);
        if to_hasher.send(Arc::clone(&chunk)).is_err() {
            return Err(io::Error::other("the hashing thread stopped"));
        }
        if parser.as_ref().is_some_and(|tx| tx.send(chunk).is_err()) {
            parser = None;
        }
    }
}

/// Reads until `buf` is full or the stream ends.
fn fill(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_everything_even_what_the_reader_leaves() {
        let data: Vec<u8> = (0..(3 * CHUNK + 17)).map(|i| (i % 251) as u8).collect();
        let (c, mut r, p) = start(Cursor::new(data.clone())).unwrap();
        assert_eq!(c, Compression::None);
        let mut first = vec![0u8; CHUNK + 5];
        r.read_exact(&mut first).unwrap();
        assert_eq!(first, data[..CHUNK + 5]);
        drop(r);
        let (digest, size) = p.finish(true).unwrap().unwrap();
        assert_eq!((digest, size), (Digest::of(&data), data.len() as u64));
    }

    #[test]
    fn stops_when_told() {
        let (_, r, p) = start(io::repeat(7).take(1 << 34)).unwrap();
        drop(r);
        assert!(p.finish(false).unwrap().is_none());
    }

    #[test]
    fn a_corrupt_stream_is_an_error_at_join() {
        let mut gz = {
            use std::io::Write;
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(&[5u8; 100_000]).unwrap();
            e.finish().unwrap()
        };
        gz.truncate(gz.len() / 2);
        let (c, mut r, p) = start(Cursor::new(gz)).unwrap();
        assert_eq!(c, Compression::Gzip);
        let mut sink = Vec::new();
        r.read_to_end(&mut sink).unwrap();
        drop(r);
        assert!(p.finish(true).is_err());
    }
}
