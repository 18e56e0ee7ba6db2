#!/usr/bin/python3
"""Publish one VumiApiEvent to vumi-dispatcher, as a conversation worker would, without loss.

Needs Debian's python3-zmq (apt-get install python3-zmq). Run:
    /usr/bin/python3 examples/python_worker.py --connect tcp://127.0.0.1:7710
    /usr/bin/python3 examples/python_worker.py --reliable --connect tcp://127.0.0.1:7713
The defaults publish the poll completion the embedded default config routes (acct1, poll1).
With CURVE (docs/security.md), add --key worker.key --server-key daemon.pub.
With --reliable it sends to the dispatcher's ingest.reliable_bind (a ROUTER) and keeps the message
until the dispatcher acknowledges it after committing, resending it after each ack timeout.
"""
import argparse
import json
import sys
import time
import uuid

import zmq


def wait_for_subscription(sock, topic, timeout_s):
    """Wait until the dispatcher's subscription covering `topic` reaches this XPUB socket.

    A PUB/XPUB that sends before the subscriber's subscription has arrived loses those messages
    (the "slow joiner"). An XPUB receives each subscription as a message: b"\\x01" + prefix.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        left_ms = int((deadline - time.monotonic()) * 1000)
        if left_ms <= 0 or not sock.poll(left_ms, zmq.POLLIN):
            return False
        message = sock.recv()
        if message[:1] == b"\x01" and topic.startswith(message[1:].decode("utf-8", "replace")):
            return True


def read_key(path):
    """The Z85 key in a key file written by `vumi-dispatcher keygen` (one line, 40 characters)."""
    with open(path, "rb") as f:
        key = f.read().strip()
    if len(key) != 40:
        raise SystemExit("%s does not hold a Z85 CURVE key (40 characters)" % path)
    return key


def publish_reliably(endpoint, messages, ack_timeout_s=5.0, deadline_s=60.0):
    """Send (topic, body, msg_id) triples over reliable ingest; return {msg_id: status}.

    Frames: [topic, body, msg_id] out, [msg_id, status] back once the batch holding the message
    committed. A message is kept until its ack arrives and resent, with the same msg_id, after
    each ack_timeout_s without one (the dispatcher may have died or restarted); "retry" (the
    dispatcher's store failed) and "not_owner" (a cluster member that does not hold the account's
    shard: connect the DEALER to every dispatcher, and the resend goes to the next one) are resent
    after the timeout too. "ok", "duplicate" and "rejected" are final.
    """
    context = zmq.Context()
    sock = context.socket(zmq.DEALER)
    sock.setsockopt(zmq.IMMEDIATE, 1)  # no dispatcher connected: wait, do not queue into a dead connection
    sock.setsockopt(zmq.LINGER, 0)     # what is not acknowledged is resent, never flushed on close
    sock.connect(endpoint)
    unacked = {msg_id: (topic, body, None) for topic, body, msg_id in messages}
    answers = {}
    deadline = time.monotonic() + deadline_s
    try:
        while unacked and time.monotonic() < deadline:
            now = time.monotonic()
            for msg_id, (topic, body, sent) in list(unacked.items()):
                if sent is None or now - sent > ack_timeout_s:
                    try:
                        sock.send_multipart([topic.encode(), body.encode(), msg_id.encode()], zmq.NOBLOCK)
                        unacked[msg_id] = (topic, body, now)
                    except zmq.Again:
                        break  # not connected yet
            if sock.poll(100, zmq.POLLIN):
                frames = sock.recv_multipart()
                if len(frames) != 2:
                    continue
                msg_id, status = frames[0].decode(), frames[1].decode()
                if msg_id in unacked and status not in ("retry", "not_owner"):
                    del unacked[msg_id]
                    answers[msg_id] = status
    finally:
        sock.close()
        context.term()
    return answers


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connect", default="tcp://127.0.0.1:7710", help="the dispatcher's ingest endpoint")
    parser.add_argument("--account", default="acct1")
    parser.add_argument("--conversation-key", default="poll1")
    parser.add_argument("--conversation-type", default="vxpolls")
    parser.add_argument("--event-type", default="poll_complete")
    parser.add_argument("--event-data", default='{"from_addr": "+27831234567", "answers": {"name": "Thandi"}}',
                        help="the event_data object, as JSON")
    parser.add_argument("--wait", type=float, default=5.0, help="seconds to wait for the dispatcher")
    parser.add_argument("--key", help="this worker's secret key file (NAME.key): connect with CURVE")
    parser.add_argument("--server-key", help="the dispatcher's public key file (its .pub)")
    parser.add_argument("--reliable", action="store_true",
                        help="--connect names ingest.reliable_bind: wait for the dispatcher's ack")
    args = parser.parse_args()
    if bool(args.key) != bool(args.server_key):
        parser.error("--key and --server-key go together")

    event = {
        "account_key": args.account,
        "conversation_key": args.conversation_key,
        "conversation_type": args.conversation_type,
        "event_type": args.event_type,
        "event_data": json.loads(args.event_data),
        "event_id": uuid.uuid4().hex,  # the dispatcher's dedupe key; it assigns one if absent
    }
    topic = "event.%s.%s.%s" % (args.account, args.conversation_type, args.event_type)

    if args.reliable:
        # msg_id: unique across every worker; the event_id would do, this shows a worker's own name.
        msg_id = "python_worker:" + uuid.uuid4().hex
        answers = publish_reliably(args.connect, [(topic, json.dumps(event), msg_id)], deadline_s=args.wait)
        status = answers.get(msg_id)
        if status is None:
            print("no acknowledgement from %s within %s s" % (args.connect, args.wait), file=sys.stderr)
            return 3
        print("published %s (event_id %s): %s" % (topic, event["event_id"], status))
        return 0 if status in ("ok", "duplicate") else 1

    context = zmq.Context()
    sock = context.socket(zmq.XPUB)
    sock.setsockopt(zmq.XPUB_NODROP, 1)  # at the high-water mark, block (or EAGAIN) instead of dropping
    sock.setsockopt(zmq.SNDTIMEO, 10000)  # ...but not forever
    sock.setsockopt(zmq.LINGER, 5000)     # on close, keep flushing for up to 5 s
    if args.key:
        # CURVE client: this worker's key pair (the public half derived from the secret) and the
        # dispatcher's public key; the dispatcher admits the key only if security.publishers has it.
        secret = read_key(args.key)
        sock.setsockopt(zmq.CURVE_SECRETKEY, secret)
        sock.setsockopt(zmq.CURVE_PUBLICKEY, zmq.curve_public(secret))
        sock.setsockopt(zmq.CURVE_SERVERKEY, read_key(args.server_key))
    sock.connect(args.connect)
    try:
        if not wait_for_subscription(sock, topic, args.wait):
            print("no dispatcher subscribed at %s within %s s" % (args.connect, args.wait), file=sys.stderr)
            return 3
        sock.send_multipart([topic.encode("utf-8"), json.dumps(event).encode("utf-8")])
        print("published %s (event_id %s)" % (topic, event["event_id"]))
        return 0
    finally:
        sock.close()  # lingers until the message has been handed to the dispatcher
        context.term()


if __name__ == "__main__":
    sys.exit(main())
