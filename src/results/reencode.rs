//! A stored result re-encoded on the fly (Arrow stream, Parquet, JSON, CSV), in bounded
//! memory: a producer reads batches and encodes them into a small channel that the response
//! body drains.

use std::future::Future;

use bytes::Bytes;
use futures::{Stream, StreamExt};

use super::{Encoder, Encoding, ResultError, ResultStore, arrow_schema};
use crate::domain::StoredResult;

type Chunk = Result<Bytes, std::io::Error>;

/// The rows of `stored` from `offset` (at most `limit`) in `encoding`: the producer to run
/// (on the engine's threads: encoding is CPU work) and the stream of encoded chunks.
pub fn reencode(
    results: &ResultStore,
    stored: &StoredResult,
    encoding: Encoding,
    offset: u64,
    limit: Option<u64>,
) -> Result<
    (
        impl Future<Output = ()> + Send + 'static,
        impl Stream<Item = Chunk> + Send + 'static,
    ),
    ResultError,
> {
    let schema = arrow_schema(stored)?;
    let mut batches = results.serving(stored)?.read(stored, offset, limit);
    let (tx, rx) = tokio::sync::mpsc::channel::<Chunk>(4);
    let produce = async move {
        let failed = |e: &dyn std::fmt::Display| Err(std::io::Error::other(e.to_string()));
        let mut encoder: Option<Encoder> = None;
        while let Some(batch) = batches.next().await {
            let chunk = match batch {
                Ok(batch) => {
                    let encoder = match &mut encoder {
                        Some(e) => e,
                        None => match Encoder::new(encoding, &batch.schema()) {
                            Ok(e) => encoder.insert(e),
                            Err(e) => return drop(tx.send(failed(&e)).await),
                        },
                    };
                    encoder
                        .write(&batch)
                        .map_err(|e| std::io::Error::other(e.to_string()))
                }
                Err(e) => failed(&e),
            };
            let stop = chunk.is_err();
            if tx.send(chunk).await.is_err() || stop {
                return;
            }
        }
        // An empty result still gets its format's header and footer.
        let encoder = match encoder {
            Some(e) => Ok(e),
            None => Encoder::new(encoding, &schema),
        };
        let tail = encoder
            .and_then(Encoder::finish)
            .map_err(|e| std::io::Error::other(e.to_string()));
        let _ = tx.send(tail).await;
    };
    let chunks = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    Ok((produce, chunks))
}
