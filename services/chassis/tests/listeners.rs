//! The sockets the chassis accepts answer small frames at once: `TCP_NODELAY` is set on every
//! accepted connection, so a unary call on a kept connection does not wait for Nagle's algorithm and
//! the caller's delayed ACK.

use motcua_chassis::server::plaintext_incoming;
use tokio::net::{TcpListener, TcpStream};
use tokio_stream::StreamExt;

#[tokio::test]
async fn plaintext_listeners_set_tcp_nodelay_on_every_accepted_socket() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let address = listener.local_addr().expect("an address");
    let mut incoming = plaintext_incoming(listener);
    for _ in 0..2 {
        let (_caller, accepted) = tokio::join!(TcpStream::connect(address), incoming.next());
        let accepted = accepted.expect("a connection").expect("accepted");
        assert!(accepted.nodelay().expect("the option is readable"), "TCP_NODELAY on the accepted socket");
    }
}

#[tokio::test]
async fn sockets_accepted_without_the_chassis_would_wait_for_nagle() {
    // What the test above guards against: the operating system's default, which tonic keeps when it
    // is handed a listener.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let address = listener.local_addr().expect("an address");
    let (_caller, accepted) = tokio::join!(TcpStream::connect(address), listener.accept());
    let (accepted, _) = accepted.expect("accepted");
    assert!(!accepted.nodelay().expect("the option is readable"), "Nagle's algorithm is on by default");
}
