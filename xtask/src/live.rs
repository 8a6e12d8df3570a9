//! Talking to a running server from the host: HTTP requests, waiting for health, and WebSocket
//! clients. Every call has a deadline, so a server that hangs fails a check instead of the run.

use std::net::{TcpListener, TcpStream};
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;
use tungstenite::{Message, WebSocket};

use crate::timing;

/// How long one HTTP request or WebSocket read may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// A port on 127.0.0.1 that nothing listens on right now.
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("failed to find a free port")?;
    Ok(listener.local_addr()?.port())
}

/// A response: its status and body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Result<Value> {
        serde_json::from_str(&self.body).with_context(|| {
            format!("the body is not JSON: `{}`", self.body.chars().take(80).collect::<String>())
        })
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        // The server is on this machine: no proxy from the environment applies.
        .proxy(None)
        .timeout_global(Some(REQUEST_TIMEOUT))
        .build()
        .new_agent()
}

/// `GET http://127.0.0.1:{port}{path}`.
pub fn get(port: u16, path: &str) -> Result<Reply> {
    let started = Instant::now();
    let reply = request(port, path);
    timing::add_waiting(started.elapsed());
    reply
}

fn request(port: u16, path: &str) -> Result<Reply> {
    let url = format!("http://127.0.0.1:{port}{path}");
    let mut response = agent().get(&url).call().with_context(|| format!("`GET {url}` failed"))?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .read_to_string()
        .with_context(|| format!("failed to read the body of `GET {url}`"))?;
    Ok(Reply { status, body })
}

/// What one look at a server found.
pub enum Probe {
    Ready,
    Waiting(String),
    /// Waiting longer cannot help: the container exited.
    Hopeless(String),
}

/// The longest pause between two polls: a server that turns ready just after a poll is
/// noticed this much later at most.
const MAX_POLL_DELAY: Duration = Duration::from_millis(250);

/// Polls `probe` with backoff (50 ms, doubling to 250 ms) until it is ready, hopeless, or `limit`
/// passes; the time it took, or the last reason it gave. An error is a reason to keep waiting.
pub fn wait_until(
    limit: Duration,
    mut probe: impl FnMut() -> Result<Probe>,
) -> Result<Duration, String> {
    let started = Instant::now();
    let mut delay = Duration::from_millis(50);
    loop {
        let last = match probe() {
            Ok(Probe::Ready) => return Ok(started.elapsed()),
            Ok(Probe::Hopeless(reason)) => return Err(reason),
            Ok(Probe::Waiting(reason)) => reason,
            Err(error) => format!("{error:#}"),
        };
        if started.elapsed() + delay > limit {
            return Err(format!("not within {} s: {last}", limit.as_secs()));
        }
        sleep(delay);
        timing::add_waiting(delay);
        delay = (delay * 2).min(MAX_POLL_DELAY);
    }
}

/// One look at `GET /health`: ready on 200.
pub fn health(port: u16) -> Result<Probe> {
    let reply = get(port, "/health")?;
    Ok(if reply.status == 200 {
        Probe::Ready
    } else {
        Probe::Waiting(format!("`/health` answered {}", reply.status))
    })
}

/// A WebSocket client of the chat room.
pub struct ChatClient {
    socket: WebSocket<TcpStream>,
}

impl ChatClient {
    pub fn connect(port: u16) -> Result<ChatClient> {
        let started = Instant::now();
        let client = ChatClient::handshake(port);
        timing::add_waiting(started.elapsed());
        client
    }

    fn handshake(port: u16) -> Result<ChatClient> {
        let address = format!("127.0.0.1:{port}");
        let stream = TcpStream::connect(&address)
            .with_context(|| format!("failed to connect to `{address}`"))?;
        stream.set_read_timeout(Some(REQUEST_TIMEOUT))?;
        stream.set_write_timeout(Some(REQUEST_TIMEOUT))?;
        let url = format!("ws://{address}/ws");
        let (socket, _) = tungstenite::client(url.as_str(), stream).map_err(|error| {
            anyhow::anyhow!("the WebSocket handshake with `{url}` failed: {error}")
        })?;
        Ok(ChatClient { socket })
    }

    pub fn send(&mut self, frame: &Value) -> Result<()> {
        self.socket
            .send(Message::text(frame.to_string()))
            .context("failed to send a WebSocket frame")
    }

    /// Reads frames until one satisfies `wanted`, for at most `limit`.
    pub fn receive_until(
        &mut self,
        limit: Duration,
        wanted: impl Fn(&Value) -> bool,
    ) -> Result<Value> {
        let started = Instant::now();
        let frame = self.read_until(limit, wanted);
        timing::add_waiting(started.elapsed());
        frame
    }

    fn read_until(&mut self, limit: Duration, wanted: impl Fn(&Value) -> bool) -> Result<Value> {
        let started = Instant::now();
        while started.elapsed() < limit {
            let message = self.socket.read().context("failed to read a WebSocket frame")?;
            let Message::Text(text) = message else { continue };
            let frame: Value = serde_json::from_str(text.as_str())
                .with_context(|| format!("a frame is not JSON: `{}`", text.as_str()))?;
            if let Some(error) = frame.get("error").and_then(Value::as_str) {
                bail!("the server answered with an error frame: `{error}`");
            }
            if wanted(&frame) {
                return Ok(frame);
            }
        }
        bail!("no matching frame within {} s", limit.as_secs())
    }

    pub fn close(mut self) {
        let _ = self.socket.close(None);
        let _ = self.socket.flush();
    }
}
