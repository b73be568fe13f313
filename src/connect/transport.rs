//! The byte stream under each gRPC channel: TCP with a large read buffer, then TLS for
//! `https://` endpoints. etcd streams a snapshot in 32 KiB messages; the HTTP/2 layer reads
//! 8 KiB at a time, so without the buffer a 1 GiB snapshot costs ~130,000 `recvfrom` calls.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, BufReader};

const READ_BUFFER: usize = 256 << 10;

/// Any bidirectional byte stream tonic can drive.
pub trait Stream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Stream for T {}

pub type Io = TokioIo<Box<dyn Stream>>;

/// A tonic connector to one endpoint. tonic is always given an `http://` URI (its own TLS stays
/// off); with `tls`, the handshake happens here and the requests carry an `https://` origin.
#[derive(Clone)]
pub struct Connector {
    /// `host:port`
    pub addr: String,
    pub tls: Option<(Arc<ClientConfig>, ServerName<'static>)>,
}

impl tower::Service<http::Uri> for Connector {
    type Response = Io;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Io>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: http::Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let tcp = tokio::net::TcpStream::connect(&this.addr).await?;
            tcp.set_nodelay(true)?;
            let buffered = BufReader::with_capacity(READ_BUFFER, tcp);
            let Some((config, name)) = this.tls else {
                return Ok(TokioIo::new(Box::new(buffered) as Box<dyn Stream>));
            };
            let tls = tokio_rustls::TlsConnector::from(config)
                .connect(name, buffered)
                .await?;
            if tls.get_ref().1.alpn_protocol() != Some(b"h2") {
                return Err(io::Error::other(
                    "the server did not negotiate HTTP/2 (ALPN h2); is this an etcd client port?",
                ));
            }
            Ok(TokioIo::new(Box::new(tls) as Box<dyn Stream>))
        })
    }
}
