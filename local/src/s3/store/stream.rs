//! An object's data as a body: read from its open file in chunks, up to a length (a range).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::Stream;
use tokio::io::{AsyncRead, ReadBuf};

/// Big enough that a 1 MiB GET is a few reads, small enough that many GETs at once stay cheap.
const CHUNK: usize = 256 * 1024;

/// `length` bytes of `file` from its current position.
#[derive(Debug)]
pub struct FileStream {
    file: tokio::fs::File,
    remaining: u64,
    buf: Vec<u8>,
}

impl FileStream {
    /// `length` bytes from `offset` of `file`.
    pub fn new(mut file: std::fs::File, offset: u64, length: u64) -> std::io::Result<Self> {
        use std::io::Seek as _;
        if offset > 0 {
            file.seek(std::io::SeekFrom::Start(offset))?;
        }
        let chunk = usize::try_from(length).map_or(CHUNK, |l| l.min(CHUNK));
        Ok(Self {
            file: tokio::fs::File::from_std(file),
            remaining: length,
            buf: vec![0; chunk],
        })
    }
}

impl Stream for FileStream {
    type Item = std::io::Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.remaining == 0 {
            return Poll::Ready(None);
        }
        let want =
            usize::try_from(this.remaining).map_or(this.buf.len(), |r| r.min(this.buf.len()));
        let mut read = ReadBuf::new(&mut this.buf[..want]);
        match Pin::new(&mut this.file).poll_read(cx, &mut read) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
            Poll::Ready(Ok(())) => {
                let filled = read.filled();
                if filled.is_empty() {
                    // The file is shorter than its record says: end the body early rather than
                    // hang (the client sees a short body and fails).
                    this.remaining = 0;
                    return Poll::Ready(Some(Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the object's data file is shorter than its record",
                    ))));
                }
                this.remaining -= filled.len() as u64;
                Poll::Ready(Some(Ok(Bytes::copy_from_slice(filled))))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::try_from(self.remaining).unwrap_or(usize::MAX);
        (n, Some(n))
    }
}
