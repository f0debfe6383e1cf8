//! Waiting for what a service does in the background, and ports nothing listens on.

use std::{future::Future, net::SocketAddr, time::Duration};

/// Retries `attempt` every 50 ms until it holds, for at most 20 s: for what a file watcher or a
/// follower applies in the background. Panics with `what` when it never holds.
pub async fn eventually<F, Fut>(what: &str, mut attempt: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !attempt().await {
        assert!(tokio::time::Instant::now() < deadline, "{what}: not so within 20 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A loopback address free when asked: for a listener the test configures, or a peer that is down.
pub fn free_loopback_address() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|listener| listener.local_addr()).expect("a free port")
}
