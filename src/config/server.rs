//! `[server]`: how long and how much the HTTP server gives each client before it answers,
//! so a client that sends slowly, sends too much or opens too many connections costs
//! little (docs/configuration.md, "Server limits").

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerConfig {
    /// A request's headers must arrive within this long, in seconds.
    pub header_read_timeout_secs: u64,
    /// A connection with no request in flight and no traffic for this long is closed
    /// (kept-alive connections nobody uses), in seconds.
    pub idle_timeout_secs: u64,
    /// A request body that is not upload data (JSON, forms) must arrive within this long.
    pub body_timeout_secs: u64,
    /// Upload data may pause this long before the request is ended (what arrived is kept).
    pub upload_idle_timeout_secs: u64,
    /// Largest request body that is not upload data (GraphQL, the seed API), whoever calls.
    pub max_body_bytes: usize,
    /// Connections one client address may hold open at once; 0: no cap.
    pub max_connections_per_ip: usize,
    /// A WebSocket must send `connection_init` within this long.
    pub ws_init_timeout_secs: u64,
    /// WebSocket keep-alive pings go out this often; a peer silent for two of them is gone.
    pub ws_ping_secs: u64,
    /// Largest message a WebSocket client may send.
    pub ws_max_message_bytes: usize,
    /// WebSockets (live subscriptions) this node holds at once; more are refused with 503
    /// so clients reconnect to another node. 0: no cap.
    pub ws_max_connections: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            header_read_timeout_secs: 10,
            idle_timeout_secs: 30,
            body_timeout_secs: 30,
            upload_idle_timeout_secs: 60,
            max_body_bytes: 4 << 20,
            max_connections_per_ip: 1024,
            ws_init_timeout_secs: 10,
            ws_ping_secs: 30,
            ws_max_message_bytes: 256 << 10,
            ws_max_connections: 20_000,
        }
    }
}
