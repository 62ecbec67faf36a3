//! The server side of a SPDY/3.1 session: streams the client opens, their data in both
//! directions, and the connection-level frames (PING, GOAWAY, SETTINGS).
//!
//! [`Session::server`] takes an upgraded connection and starts a reader and a writer
//! task. [`Session::accept`] yields each stream the client opens. The handler accepts
//! it with [`Stream::reply`] or rejects it with [`Stream::refuse`], then reads with
//! [`Stream::read`] and writes through a [`StreamWriter`].
//!
//! NOTE: flow control windows are neither enforced nor advertised. Go's spdystream, the
//! client and server library of kubectl and the kubelet, sends no WINDOW_UPDATE frames
//! and ignores those it receives, so a sender that honoured the 64 KiB initial window
//! would stall. WINDOW_UPDATE and SETTINGS frames are accepted and ignored here too.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::frame::{
    Decoder, Encoder, FLAG_FIN, FLAG_UNIDIRECTIONAL, Frame, GOAWAY_OK, Headers, INVALID_STREAM,
    PROTOCOL_ERROR, REFUSED_STREAM,
};

/// How many frames may wait for the writer task before senders wait.
const COMMAND_QUEUE: usize = 64;

/// How many data frames of one stream may wait for its reader.
const STREAM_QUEUE: usize = 16;

/// The largest data frame this side sends.
const MAX_FRAME_DATA: usize = 64 * 1024;

/// GOAWAY status for a session ended by a malformed frame.
const GOAWAY_PROTOCOL_ERROR: u32 = 1;

/// Why a stream can no longer carry data.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StreamError {
    #[error("stream {0} was reset")]
    Reset(u32),
    #[error("stream {0} is already closed for writing")]
    Closed(u32),
    #[error("the SPDY session has ended")]
    SessionEnded,
}

enum Command {
    Frame(Frame),
    Shutdown,
}

/// What the session keeps about one open stream.
struct Entry {
    /// Feeds [`Stream::read`]; dropped at the client's FIN.
    data: Option<mpsc::Sender<Bytes>>,
    /// Set to true when the stream is reset or the session ends.
    ended: watch::Sender<bool>,
    local_fin: Arc<AtomicBool>,
    remote_fin: bool,
}

#[derive(Default)]
struct Streams {
    open: HashMap<u32, Entry>,
    /// The highest stream id the client opened.
    last_accepted: u32,
    ended: bool,
}

type Shared = Arc<Mutex<Streams>>;

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Streams> {
    shared.lock().unwrap_or_else(|poison| poison.into_inner())
}

/// Marks every stream ended and closes their data channels.
fn end_all(shared: &Shared) {
    let mut streams = lock(shared);
    streams.ended = true;
    for (_, entry) in streams.open.drain() {
        let _ = entry.ended.send(true);
    }
}

/// A server-side SPDY/3.1 session. Dropping it ends the session and closes the
/// connection.
pub struct Session {
    incoming: mpsc::Receiver<Stream>,
    commands: mpsc::Sender<Command>,
    shared: Shared,
    reader: JoinHandle<()>,
}

impl Session {
    /// Starts serving SPDY frames on `io`, an upgraded connection on which the client
    /// speaks first.
    pub fn server<IO>(io: IO) -> Session
    where
        IO: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (read_half, write_half) = tokio::io::split(io);
        let (commands, queue) = mpsc::channel(COMMAND_QUEUE);
        let (incoming_sender, incoming) = mpsc::channel(STREAM_QUEUE);
        let shared: Shared = Arc::default();
        tokio::spawn(write_frames(write_half, queue, shared.clone()));
        let reader = tokio::spawn(read_frames(
            read_half,
            commands.clone(),
            incoming_sender,
            shared.clone(),
        ));
        Session {
            incoming,
            commands,
            shared,
            reader,
        }
    }

    /// Returns the next stream the client opened, or `None` once the session has ended.
    pub async fn accept(&mut self) -> Option<Stream> {
        self.incoming.recv().await
    }

    /// Sends GOAWAY, flushes what is queued and closes the connection.
    pub async fn close(self) {
        let last_good_stream_id = lock(&self.shared).last_accepted;
        let _ = self
            .commands
            .send(Command::Frame(Frame::GoAway {
                last_good_stream_id,
                status: GOAWAY_OK,
            }))
            .await;
        let _ = self.commands.send(Command::Shutdown).await;
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.reader.abort();
        let _ = self.commands.try_send(Command::Shutdown);
        end_all(&self.shared);
    }
}

/// A stream the client opened.
pub struct Stream {
    id: u32,
    headers: Headers,
    data: mpsc::Receiver<Bytes>,
    writer: StreamWriter,
}

impl Stream {
    /// The stream id.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The headers of the client's SYN_STREAM.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// Accepts the stream with an empty SYN_REPLY. The client writes no data before it.
    ///
    /// # Errors
    ///
    /// [`StreamError::SessionEnded`] when the connection is gone.
    pub async fn reply(&self) -> Result<(), StreamError> {
        self.writer
            .send(Frame::SynReply {
                stream_id: self.id,
                fin: false,
                headers: Headers::new(),
            })
            .await
    }

    /// Rejects the stream with RST_STREAM (REFUSED_STREAM).
    pub async fn refuse(self) {
        self.writer.reset(REFUSED_STREAM).await;
    }

    /// Returns the next chunk of data from the client, or `None` after its FIN, a
    /// reset or the end of the session.
    pub async fn read(&mut self) -> Option<Bytes> {
        self.data.recv().await
    }

    /// Returns a writer for this stream.
    pub fn writer(&self) -> StreamWriter {
        self.writer.clone()
    }

    /// Splits the stream into its data receiver and a writer, so each direction can
    /// move to its own task.
    pub fn split(self) -> (mpsc::Receiver<Bytes>, StreamWriter) {
        (self.data, self.writer)
    }
}

/// The sending side of a stream.
#[derive(Clone)]
pub struct StreamWriter {
    id: u32,
    commands: mpsc::Sender<Command>,
    ended: watch::Receiver<bool>,
    local_fin: Arc<AtomicBool>,
    shared: Shared,
}

impl StreamWriter {
    /// Sends `data` in one or more DATA frames.
    ///
    /// # Errors
    ///
    /// The stream was reset, this side already sent FIN, or the session has ended.
    pub async fn write(&self, data: &[u8]) -> Result<(), StreamError> {
        for chunk in data.chunks(MAX_FRAME_DATA) {
            self.check_open()?;
            self.send(Frame::Data {
                stream_id: self.id,
                fin: false,
                data: Bytes::copy_from_slice(chunk),
            })
            .await?;
        }
        Ok(())
    }

    /// Half-closes the stream with an empty DATA frame carrying FIN. Closing twice does
    /// nothing.
    pub async fn close(&self) {
        if *self.ended.borrow() || self.local_fin.swap(true, Ordering::SeqCst) {
            return;
        }
        let _ = self
            .send(Frame::Data {
                stream_id: self.id,
                fin: true,
                data: Bytes::new(),
            })
            .await;
        let mut streams = lock(&self.shared);
        if streams
            .open
            .get(&self.id)
            .is_some_and(|entry| entry.remote_fin)
        {
            streams.open.remove(&self.id);
        }
    }

    /// Aborts the stream in both directions with RST_STREAM and `status`.
    pub async fn reset(&self, status: u32) {
        let entry = lock(&self.shared).open.remove(&self.id);
        let Some(entry) = entry else {
            return;
        };
        let _ = entry.ended.send(true);
        let _ = self
            .send(Frame::RstStream {
                stream_id: self.id,
                status,
            })
            .await;
    }

    /// Resolves once the stream was reset by either side or the session ended, or
    /// both sides have closed it.
    pub async fn ended(&self) {
        let mut ended = self.ended.clone();
        let _ = ended.wait_for(|ended| *ended).await;
    }

    fn check_open(&self) -> Result<(), StreamError> {
        if *self.ended.borrow() {
            return Err(if lock(&self.shared).ended {
                StreamError::SessionEnded
            } else {
                StreamError::Reset(self.id)
            });
        }
        if self.local_fin.load(Ordering::SeqCst) {
            return Err(StreamError::Closed(self.id));
        }
        Ok(())
    }

    async fn send(&self, frame: Frame) -> Result<(), StreamError> {
        self.commands
            .send(Command::Frame(frame))
            .await
            .map_err(|_| StreamError::SessionEnded)
    }
}

/// Encodes queued frames and writes them, several per write when they queue up.
async fn write_frames<W>(mut write_half: W, mut queue: mpsc::Receiver<Command>, shared: Shared)
where
    W: AsyncWrite + Unpin,
{
    let mut encoder = Encoder::new();
    let mut buffer = Vec::with_capacity(MAX_FRAME_DATA + 64);
    let mut shutdown = false;
    while let Some(command) = queue.recv().await {
        let mut next = Some(command);
        while let Some(command) = next.take() {
            match command {
                Command::Frame(frame) => {
                    if let Err(error) = encoder.encode(&frame, &mut buffer) {
                        tracing::warn!(%error, "dropped an unencodable SPDY frame");
                    }
                }
                Command::Shutdown => shutdown = true,
            }
            if !shutdown && buffer.len() < MAX_FRAME_DATA {
                next = queue.try_recv().ok();
            }
        }
        if !buffer.is_empty() {
            if let Err(error) = write_half.write_all(&buffer).await {
                tracing::debug!(%error, "SPDY connection closed while writing");
                break;
            }
            buffer.clear();
        }
        if shutdown {
            break;
        }
    }
    let _ = write_half.flush().await;
    let _ = write_half.shutdown().await;
    end_all(&shared);
}

/// Reads frames until EOF, GOAWAY or a malformed frame, and dispatches them.
async fn read_frames<R>(
    mut read_half: R,
    commands: mpsc::Sender<Command>,
    incoming: mpsc::Sender<Stream>,
    shared: Shared,
) where
    R: AsyncRead + Unpin,
{
    let mut decoder = Decoder::new();
    let mut buffer = BytesMut::with_capacity(64 * 1024);
    let reader = Reader {
        commands,
        incoming,
        shared: shared.clone(),
    };
    'session: loop {
        loop {
            match decoder.decode(&mut buffer) {
                Ok(Some(frame)) => {
                    if !reader.handle(frame).await {
                        break 'session;
                    }
                }
                Ok(None) => break,
                Err(error) => {
                    tracing::warn!(%error, "malformed SPDY frame; ending the session");
                    let last_good_stream_id = lock(&shared).last_accepted;
                    reader
                        .queue(Frame::GoAway {
                            last_good_stream_id,
                            status: GOAWAY_PROTOCOL_ERROR,
                        })
                        .await;
                    break 'session;
                }
            }
        }
        match read_half.read_buf(&mut buffer).await {
            Ok(0) => break,
            Ok(_) => {}
            Err(error) => {
                tracing::debug!(%error, "SPDY connection read failed");
                break;
            }
        }
    }
    end_all(&shared);
    let _ = reader.commands.send(Command::Shutdown).await;
}

struct Reader {
    commands: mpsc::Sender<Command>,
    incoming: mpsc::Sender<Stream>,
    shared: Shared,
}

impl Reader {
    async fn queue(&self, frame: Frame) {
        let _ = self.commands.send(Command::Frame(frame)).await;
    }

    /// Handles one frame; returns false when the session must end.
    async fn handle(&self, frame: Frame) -> bool {
        match frame {
            Frame::SynStream {
                stream_id,
                flags,
                headers,
                ..
            } => self.open_stream(stream_id, flags, headers).await,
            Frame::Data {
                stream_id,
                fin,
                data,
            } => self.deliver(stream_id, fin, data).await,
            Frame::Headers { stream_id, fin, .. } => {
                if fin {
                    self.remote_finished(stream_id);
                }
            }
            Frame::RstStream { stream_id, status } => {
                tracing::trace!(stream_id, status, "SPDY stream reset by the client");
                if let Some(entry) = lock(&self.shared).open.remove(&stream_id) {
                    let _ = entry.ended.send(true);
                }
            }
            // Odd ids are the client's pings, which are echoed; even ids would answer
            // pings of this side, which sends none.
            Frame::Ping { id } if id % 2 == 1 => self.queue(Frame::Ping { id }).await,
            Frame::GoAway {
                last_good_stream_id,
                status,
            } => {
                tracing::debug!(last_good_stream_id, status, "SPDY client sent GOAWAY");
                return false;
            }
            Frame::SynReply { stream_id, .. } => {
                // This side opens no streams, so no reply is expected.
                self.queue(Frame::RstStream {
                    stream_id,
                    status: PROTOCOL_ERROR,
                })
                .await;
            }
            Frame::Ping { .. } | Frame::Settings { .. } | Frame::WindowUpdate { .. } => {}
        }
        true
    }

    async fn open_stream(&self, stream_id: u32, flags: u8, headers: Headers) {
        let (data_sender, data) = mpsc::channel(STREAM_QUEUE);
        let (ended_sender, ended) = watch::channel(false);
        let local_fin = Arc::new(AtomicBool::new(flags & FLAG_UNIDIRECTIONAL != 0));
        let remote_fin = flags & FLAG_FIN != 0;
        let in_order = {
            let mut streams = lock(&self.shared);
            // Client streams have odd ids that only grow.
            let in_order = stream_id % 2 == 1 && stream_id > streams.last_accepted;
            if in_order {
                streams.last_accepted = stream_id;
                streams.open.insert(
                    stream_id,
                    Entry {
                        data: (!remote_fin).then_some(data_sender),
                        ended: ended_sender,
                        local_fin: local_fin.clone(),
                        remote_fin,
                    },
                );
            }
            in_order
        };
        if !in_order {
            tracing::debug!(stream_id, "SPDY stream id out of order");
            self.queue(Frame::RstStream {
                stream_id,
                status: PROTOCOL_ERROR,
            })
            .await;
            return;
        }
        let stream = Stream {
            id: stream_id,
            headers,
            data,
            writer: StreamWriter {
                id: stream_id,
                commands: self.commands.clone(),
                ended,
                local_fin,
                shared: self.shared.clone(),
            },
        };
        if let Err(refused) = self.incoming.send(stream).await {
            refused.0.writer.reset(REFUSED_STREAM).await;
        }
    }

    async fn deliver(&self, stream_id: u32, fin: bool, data: Bytes) {
        let (sender, known) = {
            let streams = lock(&self.shared);
            match streams.open.get(&stream_id) {
                Some(entry) => (entry.data.clone(), true),
                None => (None, stream_id <= streams.last_accepted),
            }
        };
        if !known {
            // Data for a stream that was never opened; frames for streams already
            // closed are in flight legitimately and are dropped.
            self.queue(Frame::RstStream {
                stream_id,
                status: INVALID_STREAM,
            })
            .await;
            return;
        }
        if let Some(sender) = sender
            && !data.is_empty()
        {
            // A receiver that went away only means the handler ignores this stream.
            let _ = sender.send(data).await;
        }
        if fin {
            self.remote_finished(stream_id);
        }
    }

    /// Records the client's FIN: the data channel closes, and a stream closed by both
    /// sides is forgotten.
    fn remote_finished(&self, stream_id: u32) {
        let mut streams = lock(&self.shared);
        let Some(entry) = streams.open.get_mut(&stream_id) else {
            return;
        };
        entry.remote_fin = true;
        entry.data = None;
        if entry.local_fin.load(Ordering::SeqCst) {
            streams.open.remove(&stream_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spdy::frame::CANCEL;

    /// The client end of an in-memory connection, speaking frames.
    struct Client {
        io: tokio::io::DuplexStream,
        encoder: Encoder,
        decoder: Decoder,
        buffer: BytesMut,
    }

    impl Client {
        async fn send(&mut self, frame: Frame) {
            let mut bytes = Vec::new();
            self.encoder.encode(&frame, &mut bytes).unwrap();
            self.io.write_all(&bytes).await.unwrap();
        }

        async fn receive(&mut self) -> Option<Frame> {
            loop {
                if let Some(frame) = self.decoder.decode(&mut self.buffer).unwrap() {
                    return Some(frame);
                }
                if self.io.read_buf(&mut self.buffer).await.unwrap() == 0 {
                    return None;
                }
            }
        }
    }

    fn pair() -> (Session, Client) {
        let (server, client) = tokio::io::duplex(1 << 20);
        (
            Session::server(server),
            Client {
                io: client,
                encoder: Encoder::new(),
                decoder: Decoder::new(),
                buffer: BytesMut::new(),
            },
        )
    }

    fn syn_stream(stream_id: u32, stream_type: &str) -> Frame {
        let mut headers = Headers::new();
        headers.add("streamtype", stream_type);
        Frame::SynStream {
            stream_id,
            associated_to: 0,
            priority: 0,
            flags: 0,
            headers,
        }
    }

    #[tokio::test]
    async fn stream_reply_data_and_fin() {
        let (mut session, mut client) = pair();
        client.send(syn_stream(1, "data")).await;
        let mut stream = session.accept().await.expect("a stream");
        assert_eq!(stream.id(), 1);
        assert_eq!(stream.headers().get("streamtype"), Some("data"));
        stream.reply().await.unwrap();
        assert_eq!(
            client.receive().await,
            Some(Frame::SynReply {
                stream_id: 1,
                fin: false,
                headers: Headers::new()
            })
        );

        client
            .send(Frame::Data {
                stream_id: 1,
                fin: true,
                data: Bytes::from_static(b"hello"),
            })
            .await;
        assert_eq!(stream.read().await.as_deref(), Some(&b"hello"[..]));
        assert_eq!(stream.read().await, None, "FIN ends the data");

        let writer = stream.writer();
        writer.write(b"world").await.unwrap();
        writer.close().await;
        assert_eq!(
            client.receive().await,
            Some(Frame::Data {
                stream_id: 1,
                fin: false,
                data: Bytes::from_static(b"world")
            })
        );
        assert_eq!(
            client.receive().await,
            Some(Frame::Data {
                stream_id: 1,
                fin: true,
                data: Bytes::new()
            })
        );
        assert_eq!(writer.write(b"late").await, Err(StreamError::Closed(1)));
    }

    #[tokio::test]
    async fn pings_are_echoed_and_window_updates_ignored() {
        let (_session, mut client) = pair();
        client
            .send(Frame::WindowUpdate {
                stream_id: 0,
                delta: 1024,
            })
            .await;
        client
            .send(Frame::Settings {
                flags: 0,
                entries: vec![(0, 7, 1 << 20)],
            })
            .await;
        client.send(Frame::Ping { id: 1 }).await;
        client.send(Frame::Ping { id: 2 }).await;
        client.send(Frame::Ping { id: 3 }).await;
        assert_eq!(client.receive().await, Some(Frame::Ping { id: 1 }));
        assert_eq!(client.receive().await, Some(Frame::Ping { id: 3 }));
    }

    #[tokio::test]
    async fn reset_by_client_ends_the_stream() {
        let (mut session, mut client) = pair();
        client.send(syn_stream(1, "data")).await;
        let mut stream = session.accept().await.unwrap();
        stream.reply().await.unwrap();
        client.receive().await;
        let writer = stream.writer();
        client
            .send(Frame::RstStream {
                stream_id: 1,
                status: CANCEL,
            })
            .await;
        writer.ended().await;
        assert_eq!(stream.read().await, None);
        assert_eq!(writer.write(b"x").await, Err(StreamError::Reset(1)));
    }

    #[tokio::test]
    async fn out_of_order_and_unknown_streams_are_reset() {
        let (mut session, mut client) = pair();
        client.send(syn_stream(3, "error")).await;
        let _stream = session.accept().await.unwrap();
        client.send(syn_stream(1, "data")).await;
        assert_eq!(
            client.receive().await,
            Some(Frame::RstStream {
                stream_id: 1,
                status: PROTOCOL_ERROR
            })
        );
        client
            .send(Frame::Data {
                stream_id: 9,
                fin: false,
                data: Bytes::from_static(b"?"),
            })
            .await;
        assert_eq!(
            client.receive().await,
            Some(Frame::RstStream {
                stream_id: 9,
                status: INVALID_STREAM
            })
        );
    }

    #[tokio::test]
    async fn refused_stream_gets_rst() {
        let (mut session, mut client) = pair();
        client.send(syn_stream(1, "bogus")).await;
        session.accept().await.unwrap().refuse().await;
        assert_eq!(
            client.receive().await,
            Some(Frame::RstStream {
                stream_id: 1,
                status: REFUSED_STREAM
            })
        );
    }

    #[tokio::test]
    async fn goaway_ends_session_and_streams() {
        let (mut session, mut client) = pair();
        client.send(syn_stream(1, "data")).await;
        let mut stream = session.accept().await.unwrap();
        client
            .send(Frame::GoAway {
                last_good_stream_id: 0,
                status: GOAWAY_OK,
            })
            .await;
        assert!(session.accept().await.is_none());
        assert_eq!(stream.read().await, None);
        assert_eq!(
            stream.writer().write(b"x").await,
            Err(StreamError::SessionEnded)
        );
        assert_eq!(client.receive().await, None, "the connection closes");
    }

    #[tokio::test]
    async fn close_sends_goaway_with_last_stream() {
        let (mut session, mut client) = pair();
        client.send(syn_stream(5, "data")).await;
        let _stream = session.accept().await.unwrap();
        session.close().await;
        assert_eq!(
            client.receive().await,
            Some(Frame::GoAway {
                last_good_stream_id: 5,
                status: GOAWAY_OK
            })
        );
        assert_eq!(client.receive().await, None);
    }

    #[tokio::test]
    async fn malformed_frame_sends_protocol_error_goaway() {
        let (mut session, mut client) = pair();
        client
            .io
            .write_all(&[0x80, 0x02, 0x00, 0x06, 0, 0, 0, 4, 0, 0, 0, 1])
            .await
            .unwrap();
        assert!(session.accept().await.is_none());
        assert_eq!(
            client.receive().await,
            Some(Frame::GoAway {
                last_good_stream_id: 0,
                status: GOAWAY_PROTOCOL_ERROR
            })
        );
    }
}
