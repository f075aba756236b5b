//! A webhook receiver on loopback: records every request and answers with the statuses it
//! was given, in order (200 once they run out).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};

#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
}

#[derive(Default)]
struct Inner {
    received: Vec<Received>,
    statuses: VecDeque<u16>,
}

#[derive(Clone, Default)]
pub struct Receiver {
    inner: Arc<Mutex<Inner>>,
    pub url: String,
}

async fn record(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let mut inner = receiver.inner.lock().unwrap();
    inner.received.push(Received { headers, body });
    let status = inner.statuses.pop_front().unwrap_or(200);
    StatusCode::from_u16(status).unwrap()
}

impl Receiver {
    pub async fn start(statuses: &[u16]) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let receiver = Receiver {
            url: format!("http://{}/hook", listener.local_addr().unwrap()),
            ..Receiver::default()
        };
        receiver.inner.lock().unwrap().statuses = statuses.iter().copied().collect();
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(record))
            .with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        receiver
    }

    /// Waits (at most `within`) until `n` requests came, and returns them all.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        let start = Instant::now();
        loop {
            let received = self.inner.lock().unwrap().received.clone();
            if received.len() >= n {
                return received;
            }
            assert!(
                start.elapsed() < within,
                "only {} of {n} webhooks arrived",
                received.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn count(&self) -> usize {
        self.inner.lock().unwrap().received.len()
    }
}
