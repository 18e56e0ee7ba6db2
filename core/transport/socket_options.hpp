// The ZeroMQ socket options of the daemon and its tools, in one place (documented in docs/protocol.md).
#pragma once

#include <cstddef>
#include <string>
#include <zmq.hpp>

namespace vumi::transport {

// Ingest frames may exceed the body limit by this much and still reach the decoder, which rejects
// them visibly as too_large; anything larger makes libzmq drop the sending connection.
constexpr std::size_t kMaxMessageSlackBytes = 64 * 1024;

// Messages queued per peer on the ingest side before TCP back-pressure reaches the publisher, at
// most (limits.max_ingest_queue_bytes lowers it for large messages: ingest_receive_hwm).
constexpr int kIngestReceiveHwm = 100'000;
// Bytes of ingest messages queued per peer unless limits.max_ingest_queue_bytes says otherwise.
constexpr std::size_t kDefaultIngestQueueBytes = 256 * 1024 * 1024;
// Messages queued per subscriber on the outbound side before sends to it count as undeliverable.
constexpr int kOutboundSendHwm = 20'000;
// How long closing a socket may wait to flush what is queued.
constexpr int kDaemonLingerMs = 2'000;

// The ingest ZMQ_RCVHWM for a byte bound per peer: libzmq counts its receive queue in messages,
// so the bound holds for messages of the largest size it admits (max_body_bytes plus the slack).
// Between 1 and kIngestReceiveHwm.
int ingest_receive_hwm(std::size_t max_body_bytes, std::size_t max_queue_bytes);

// Options shared by every socket: bounded linger, TCP keepalive and ZMTP heartbeats, so dead
// peers are noticed and their queues released.
void apply_common_options(zmq::socket_t& socket, int linger_ms);

// The ingest SUB: receive high-water mark for bursts and ZMQ_MAXMSGSIZE from the body limit.
void apply_ingest_options(zmq::socket_t& socket, std::size_t max_body_bytes);

// The outbound XPUB: send high-water mark, no-drop (a full subscriber makes a non-blocking send
// fail with EAGAIN so it can be counted) and every subscription reported.
void apply_outbound_options(zmq::socket_t& socket);

// Binds socket at endpoint or throws std::runtime_error naming the role ("ingest"), the endpoint
// and libzmq's reason ("Address already in use"). Returns the bound endpoint with any ephemeral
// port ("tcp://127.0.0.1:*" or ":0") resolved.
std::string bind_endpoint(zmq::socket_t& socket, const std::string& role, const std::string& endpoint);

// Connects or throws std::runtime_error naming the endpoint and libzmq's reason.
void connect_endpoint(zmq::socket_t& socket, const std::string& endpoint);

}  // namespace vumi::transport
