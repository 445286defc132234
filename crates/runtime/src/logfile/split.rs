//! Cutting a byte stream into log entries: whole lines, or 16 KiB pieces of longer ones.

use super::MAX_PIECE;

/// The unfinished line of one stream, between reads.
#[derive(Debug, Default)]
pub(crate) struct LineSplitter {
    partial: Vec<u8>,
}

impl LineSplitter {
    /// Feeds `data`; `emit` gets every complete line (ending in `\n`) and every 16 KiB piece
    /// of a line that is longer. What is left waits for more data.
    pub fn push(&mut self, mut data: &[u8], mut emit: impl FnMut(&[u8])) {
        while !data.is_empty() {
            let room = MAX_PIECE - self.partial.len();
            let window = &data[..room.min(data.len())];
            let cut = match memchr_newline(window) {
                Some(q) => q + 1,
                // The line reaches 16 KiB without a newline: log it as a piece.
                None if data.len() >= room => room,
                None => {
                    self.partial.extend_from_slice(data);
                    return;
                }
            };
            if self.partial.is_empty() {
                emit(&data[..cut]);
            } else {
                self.partial.extend_from_slice(&data[..cut]);
                emit(&self.partial);
                self.clear();
            }
            data = &data[cut..];
        }
    }

    /// The stream ended: whatever is left is logged as it is, without a newline.
    pub fn finish(&mut self, mut emit: impl FnMut(&[u8])) {
        if !self.partial.is_empty() {
            emit(&self.partial);
            self.clear();
        }
    }

    fn clear(&mut self) {
        self.partial.clear();
        // A long line grew the buffer; an idle shim should not keep it.
        if self.partial.capacity() > 4096 {
            self.partial = Vec::new();
        }
    }
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]]) -> Vec<Vec<u8>> {
        let mut s = LineSplitter::default();
        let mut out = Vec::new();
        for chunk in chunks {
            s.push(chunk, |piece| out.push(piece.to_vec()));
        }
        s.finish(|piece| out.push(piece.to_vec()));
        out
    }

    #[test]
    fn lines_are_split_at_newlines_across_reads() {
        assert_eq!(
            split(&[b"a\nb", b"c\n\nd"]),
            vec![
                b"a\n".to_vec(),
                b"bc\n".to_vec(),
                b"\n".to_vec(),
                b"d".to_vec()
            ]
        );
    }

    #[test]
    fn long_lines_come_in_16k_pieces_and_only_the_last_has_the_newline() {
        let mut line = vec![b'x'; MAX_PIECE * 2 + 10];
        line.push(b'\n');
        // Fed in odd chunk sizes so that pieces straddle reads.
        let chunks: Vec<&[u8]> = line.chunks(7000).collect();
        let out = split(&chunks);
        assert_eq!(out.len(), 3);
        assert_eq!(out[0].len(), MAX_PIECE);
        assert_eq!(out[1].len(), MAX_PIECE);
        assert!(!out[0].ends_with(b"\n") && !out[1].ends_with(b"\n"));
        assert_eq!(out[2], [vec![b'x'; 10], vec![b'\n']].concat());
    }

    #[test]
    fn a_line_of_exactly_16k_is_a_piece_then_its_newline() {
        // As Docker's copier: the buffer is full before the newline arrives.
        let mut line = vec![b'y'; MAX_PIECE];
        line.push(b'\n');
        let out = split(&[&line]);
        assert_eq!(out, vec![vec![b'y'; MAX_PIECE], b"\n".to_vec()]);
        let mut shorter = vec![b'y'; MAX_PIECE - 1];
        shorter.push(b'\n');
        assert_eq!(split(&[&shorter]), vec![shorter.clone()]);
    }
}
