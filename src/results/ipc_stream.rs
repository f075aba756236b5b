//! A result stored as Arrow IPC files, served as one Arrow IPC stream by its bytes, without
//! decoding a batch. An IPC file is a stream's messages between a padded magic and a footer,
//! so the stream is the first file's schema message, then every file's record batch messages
//! (located by the footers), then the end-of-stream marker. Its length is known before the
//! first byte, so the response carries a `Content-Length`: clients read such a body in one
//! piece, several times faster than a chunked one (see docs/benchmarks.md, "large results").

use std::ops::Range;

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::ObjectStoreExt;
use object_store::path::Path as ObjectPath;

use super::{ResultError, ResultStore, arrow_schema, partitions};
use crate::domain::{StoredFile, StoredResult};
use crate::spec::OutputFormat;

/// `ARROW1`; zeros pad it to the writer's alignment, then the schema message begins.
const MAGIC: u64 = 6;
/// What begins every message (the continuation marker).
const CONTINUATION: [u8; 4] = [0xff; 4];
/// The footer's length (4 bytes) and `ARROW1`.
const TRAILER: u64 = 10;
const END_OF_STREAM: [u8; 8] = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0];
/// Bytes read from the store at a time.
const PIECE: u64 = 8 << 20;
/// Footers read at once (each is two small reads).
const FOOTERS_AT_ONCE: usize = 8;

/// An Arrow IPC stream and its length in bytes.
pub struct IpcStream {
    pub length: u64,
    pub body: BoxStream<'static, Result<Bytes, object_store::Error>>,
}

impl ResultStore {
    /// The whole result as an Arrow IPC stream of its stored bytes; `None` where it is not
    /// stored as Arrow, a file holds dictionaries (each file has its own), no file has a
    /// batch, or the files leave out partition columns (those are added back from the paths).
    pub async fn arrow_stream(
        &self,
        stored: &StoredResult,
    ) -> Result<Option<IpcStream>, ResultError> {
        if stored.format != OutputFormat::Arrow {
            return Ok(None);
        }
        let schema = arrow_schema(stored)?;
        let whole = |file: &StoredFile| {
            partitions::file_schema(&schema, &file.key).fields().len() == schema.fields().len()
        };
        if !stored.files.iter().all(whole) {
            return Ok(None);
        }
        // Owned, so that the futures borrow nothing of this call (a handler's future must be
        // `Send` for any lifetime).
        let found: Vec<Messages> = futures::stream::iter(stored.files.clone())
            .map(|file| {
                let store = self.clone();
                async move { store.batch_messages(&file).await }
            })
            .buffered(FOOTERS_AT_ONCE)
            .try_collect()
            .await?;
        if found.contains(&Messages::Dictionaries) {
            return Ok(None);
        }
        let mut parts = Vec::with_capacity(stored.files.len());
        for (file, messages) in stored.files.iter().zip(found) {
            let Messages::Batches(batches) = messages else {
                continue;
            };
            // The first file with batches brings the schema message, which sits between the
            // magic (and its padding) and the first batch.
            let start = match parts.is_empty() {
                true => self.schema_message(file, batches.start).await?,
                false => batches.start,
            };
            parts.push((ObjectPath::from(file.key.as_str()), start..batches.end));
        }
        if parts.is_empty() {
            return Ok(None);
        }
        let length = parts.iter().map(|(_, r)| r.end - r.start).sum::<u64>() + 8;
        // Pieces of a few MiB, each one read: a store's own stream of a file comes in pieces
        // of a few kiB, and so many pieces slow the response more than the copy saves.
        let pieces: Vec<(ObjectPath, Range<u64>)> = parts
            .into_iter()
            .flat_map(|(path, range)| {
                let starts = (range.start..range.end).step_by(PIECE as usize);
                starts.map(move |at| (path.clone(), at..(at + PIECE).min(range.end)))
            })
            .collect();
        let store = self.store.clone();
        let body = futures::stream::iter(pieces)
            .map(move |(path, range)| {
                let store = store.clone();
                async move { store.get_range(&path, range).await }
            })
            // The next piece is read while this one is sent.
            .buffered(2)
            .chain(futures::stream::once(async {
                Ok(Bytes::from_static(&END_OF_STREAM))
            }))
            .boxed();
        Ok(Some(IpcStream { length, body }))
    }

    /// Where the schema message of a stored Arrow IPC file starts: the first message after
    /// the magic and its padding, before `first_batch`.
    async fn schema_message(
        &self,
        file: &StoredFile,
        first_batch: u64,
    ) -> Result<u64, ResultError> {
        let path = ObjectPath::from(file.key.as_str());
        let head = self.store.get_range(&path, 0..first_batch).await?;
        head.windows(4)
            .skip(MAGIC as usize)
            .position(|w| w == CONTINUATION)
            .map(|at| at as u64 + MAGIC)
            .ok_or_else(|| ResultError::Decode(format!("{}: no schema message", file.key)))
    }

    /// Where a stored Arrow IPC file's record batch messages start and end, from its footer.
    async fn batch_messages(&self, file: &StoredFile) -> Result<Messages, ResultError> {
        let path = ObjectPath::from(file.key.as_str());
        let size = file.bytes;
        let decode = |e: &dyn std::fmt::Display| ResultError::Decode(format!("{}: {e}", file.key));
        if size < MAGIC + TRAILER {
            return Err(decode(&"too short for an Arrow IPC file"));
        }
        let trailer = self.store.get_range(&path, size - TRAILER..size).await?;
        let trailer: [u8; 10] = trailer[..].try_into().map_err(|e| decode(&e))?;
        let footer_length =
            arrow::ipc::reader::read_footer_length(trailer).map_err(|e| decode(&e))?;
        let footer_start = (size - TRAILER)
            .checked_sub(footer_length as u64)
            .ok_or_else(|| decode(&"a footer longer than the file"))?;
        let footer = self
            .store
            .get_range(&path, footer_start..size - TRAILER)
            .await?;
        let footer = arrow::ipc::root_as_footer(&footer).map_err(|e| decode(&e))?;
        if footer.dictionaries().is_some_and(|d| !d.is_empty()) {
            return Ok(Messages::Dictionaries);
        }
        let Some(blocks) = footer.recordBatches().filter(|b| !b.is_empty()) else {
            return Ok(Messages::Empty);
        };
        let first = blocks.get(0);
        let last = blocks.get(blocks.len() - 1);
        let offset = |v: i64| u64::try_from(v).map_err(|e| decode(&e));
        let start = offset(first.offset())?;
        let end = offset(last.offset())?
            + offset(i64::from(last.metaDataLength()))?
            + offset(last.bodyLength())?;
        if start < MAGIC || end > footer_start || start > end {
            return Err(decode(&"record batch blocks outside the file"));
        }
        Ok(Messages::Batches(start..end))
    }
}

/// What a stored Arrow IPC file holds, for the stream.
#[derive(Debug, PartialEq)]
enum Messages {
    /// Record batch messages in this range of the file.
    Batches(Range<u64>),
    /// No batches: nothing for the stream.
    Empty,
    /// Dictionary messages too: each file has its own, which the stream cannot join.
    Dictionaries,
}
