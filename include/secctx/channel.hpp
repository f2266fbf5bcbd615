// basic_channel: what a finished handshake becomes. It protects the application's data over the
// same transport and buffer policy (EncryptMessage / DecryptMessage), starting with the bytes that
// arrived after the last handshake message, and shuts the connection down with close_notify
// (ApplyControlToken).
//
// Three levels, all without exceptions:
//   message  encrypt() / decrypt(): records into buffers().output(), plaintext out of
//            buffers().input(); no transport I/O (sans-IO).
//   stream   write_some() / read_some() / flush(): non-blocking over the transport, returning
//            errc::would_block where step() would say want_write / want_read, so an event loop
//            can drive them.
//   blocking write_all() / read() / read_exactly() / shutdown(): the same, waiting in the
//            transport's wait() until a deadline.
//
// Ends of stream are told apart, each its own result: errc::end_of_stream (the peer's
// close_notify: a clean end), errc::truncated (EOF at a record boundary without close_notify),
// errc::truncated_mid_record (EOF inside a record). Truncation is never a clean end.
// Failures are sticky: the context is destroyed, the alert it owes is flushed where the transport
// takes it, and every later call returns the same error.
#pragma once

#include "secctx/attributes.hpp"
#include "secctx/buffer/buffer_policy.hpp"
#include "secctx/buffer/buffer_sequence.hpp"
#include "secctx/buffer/detail/wipe.hpp"
#include "secctx/error.hpp"
#include "secctx/handshake.hpp"
#include "secctx/tls/provider.hpp"
#include "secctx/transport/detail/read_into_queue.hpp"
#include "secctx/transport/detail/write_queued.hpp"
#include "secctx/transport/transport.hpp"

#include <algorithm>
#include <cstring>
#include <span>
#include <utility>

namespace secctx {

// What detach() hands back: the transport, and the buffers whose input holds every byte the peer
// sent after its close_notify, for a protocol that goes on in the clear.
template <class Transport, class Buffers>
struct detached_connection {
    Transport transport;
    Buffers buffers;
    std::error_code error; // errc::invalid_state if the peer's close_notify was not yet read
};

template <class Provider, transport Transport, buffer_policy Buffers>
requires record_protection<Provider, Buffers>
class basic_channel {
public:
    using provider_type = Provider;
    using transport_type = Transport;
    using buffer_type = Buffers;

    // Plaintext encrypted per write_some(): enough for four full records, so a large write needs
    // no more output memory than four records.
    static constexpr std::size_t max_write_chunk = std::size_t{4} * Provider::max_message_size;

    basic_channel(Provider provider, Transport transport, Buffers buffers) noexcept
        : provider_(std::move(provider)), transport_(std::move(transport)),
          buffers_(std::move(buffers)) {}

    // Takes a handshake's provider, transport and buffers, with the bytes that arrived after the
    // last handshake message. A handshake that is not done gives a channel that fails with its
    // error (or errc::invalid_state).
    template <class Role, class Metrics>
    explicit basic_channel(basic_handshake<Role, Transport, Buffers, Metrics>&& handshake) noexcept
        : provider_(std::move(handshake.provider())), transport_(std::move(handshake.transport())),
          buffers_(std::move(handshake.buffers())) {
        if (!handshake.done()) {
            error_ = handshake.error() ? handshake.error() : make_error_code(errc::invalid_state);
            provider_.abandon(error_); // an unfinished context must not live on in a channel
        }
    }

    // ---- message level ----

    // Records for `plaintext`, appended to buffers().output().
    std::error_code encrypt(std::span<const std::byte> plaintext) noexcept {
        if (error_)
            return error_;
        if (sent_close_)
            return errc::invalid_state;
        const provider_result r = provider_.encrypt(plaintext, buffers_);
        return r.status == provider_status::error ? fail(r.error) : std::error_code();
    }

    decrypt_result decrypt(std::span<std::byte> into) noexcept {
        if (error_)
            return {provider_status::error, 0, 0, error_};
        decrypt_result r = provider_.decrypt(buffers_, into);
        // A verdict or a certificate is asked for during the handshake only: from a channel, it
        // is a broken provider, and the channel ends.
        if (r.status == provider_status::verdict_needed ||
            r.status == provider_status::certificate_needed)
            r = {provider_status::error, 0, 0, make_error_code(errc::invalid_state)};
        if (r.status == provider_status::error)
            fail(r.error);
        return r;
    }

    // ---- stream level, non-blocking ----

    // Writes the records waiting in the output: success once all are taken, errc::would_block
    // while some wait, or the transport's error.
    std::error_code flush() noexcept {
        if (error_)
            return error_;
        std::size_t written = 0;
        const auto ec = detail::write_queued(transport_, buffers_.output(), written);
        if (ec)
            return ec == errc::would_block ? ec : fail(ec);
        buffers_.output().release();
        return {};
    }

    // Takes up to max_write_chunk bytes of `plaintext` (fewer if the output queue cannot hold
    // their records), encrypts them and writes what the transport takes now; the rest of the
    // records go with the next call or flush(). Returns the plaintext bytes taken, or
    // errc::would_block (nothing taken: earlier records still wait), or errc::token_too_large
    // without failing when the output queue cannot hold even one record of one byte.
    io_result write_some(std::span<const std::byte> plaintext) noexcept {
        if (const auto ec = flush())
            return {0, ec};
        const std::size_t n = std::min(plaintext.size(), writable());
        if (n == 0 && !plaintext.empty())
            return {0, errc::token_too_large};
        if (const auto ec = encrypt(plaintext.first(n)))
            return {0, ec};
        return taken(n);
    }

    // Gather write over a buffer sequence (buffer/buffer_sequence.hpp: spans, range-v3 views...):
    // the pieces are packed into as few full records as possible (not one record per piece), and
    // as few transport writes. Returns the plaintext bytes taken, in order.
    template <const_buffer_sequence Pieces>
    io_result write_some(Pieces&& pieces) noexcept {
        if (const auto ec = flush())
            return {0, ec};
        std::byte record[Provider::max_message_size];
        std::size_t filled = 0;
        std::size_t total = 0;
        const std::size_t limit = writable();
        for (auto&& segment : pieces) {
            std::span<const std::byte> piece = as_bytes_span(segment);
            while (!piece.empty() && total < limit) {
                const std::size_t n =
                    std::min({piece.size(), sizeof record - filled, limit - total});
                std::memcpy(record + filled, piece.data(), n);
                filled += n;
                total += n;
                piece = piece.subspan(n);
                if (filled == sizeof record) {
                    if (const auto ec = encrypt(record)) {
                        detail::wipe(record, sizeof record);
                        return {0, ec};
                    }
                    filled = 0;
                }
            }
        }
        const auto ec = total == 0 && limit == 0 ? make_error_code(errc::token_too_large)
                                                 : encrypt(std::span(record, filled));
        // The staging area held the application's plaintext.
        detail::wipe(record, std::min(total, sizeof record));
        if (ec)
            return {0, ec};
        return taken(total);
    }

    // Reads plaintext: the bytes that arrived with the handshake first, then from the transport.
    // Returns bytes > 0, or errc::would_block, errc::end_of_stream (close_notify),
    // errc::truncated, errc::truncated_mid_record, or the failure.
    io_result read_some(std::span<std::byte> into) noexcept { return read_into(into, true); }

    // Scatter read into a buffer sequence, segment after segment: what read_some() would return
    // for the first, then whatever else is already here (decrypted, or whole records received)
    // without reading the transport again. An end of stream or a failure after some bytes is
    // returned by the next call.
    template <mutable_buffer_sequence Segments>
    io_result read_some(Segments&& segments) noexcept {
        std::size_t total = 0;
        for (auto&& segment : segments) {
            for (std::span<std::byte> into = as_bytes_span(segment); !into.empty();) {
                const io_result r = read_into(into, total == 0);
                if (r.error || r.bytes == 0)
                    return total != 0 ? io_result{total, {}} : r;
                total += r.bytes;
                into = into.subspan(r.bytes);
            }
        }
        return {total, {}};
    }

    // ---- blocking, with a deadline ----

    std::error_code write_all(std::span<const std::byte> plaintext,
                              clock::time_point deadline) noexcept {
        while (!plaintext.empty()) {
            const io_result r = write_some(plaintext);
            if (r.error == errc::would_block) {
                if (const auto ec = wait(wait_for::writable, deadline))
                    return ec;
                continue;
            }
            if (r.error)
                return r.error;
            plaintext = plaintext.subspan(r.bytes);
        }
        return flush_until(deadline);
    }

    // At least one byte, unless the stream ended or failed.
    io_result read(std::span<std::byte> into, clock::time_point deadline) noexcept {
        for (;;) {
            const io_result r = read_some(into);
            if (r.error != errc::would_block)
                return r;
            if (const auto ec = wait(wait_for::readable, deadline))
                return {0, ec};
        }
    }

    // Exactly into.size() bytes, or the error that stopped it (errc::end_of_stream if the peer
    // closed cleanly first).
    std::error_code read_exactly(std::span<std::byte> into, clock::time_point deadline) noexcept {
        while (!into.empty()) {
            const io_result r = read(into, deadline);
            if (r.error)
                return r.error;
            into = into.subspan(r.bytes);
        }
        return {};
    }

    // ---- shutdown ----

    // Half-close: sends close_notify and writes what the transport takes now (flush() for the
    // rest). Reading goes on until the peer's close_notify. No write is allowed after it.
    std::error_code shutdown_send() noexcept {
        if (error_)
            return error_;
        if (!sent_close_) {
            const provider_result r = provider_.close(buffers_);
            if (r.status == provider_status::error)
                return fail(r.error);
            sent_close_ = true;
        }
        const auto ec = flush();
        return ec == errc::would_block ? std::error_code() : ec;
    }

    // Sends close_notify and waits, until `deadline`, for the peer's: success when it came;
    // errc::timed_out when the peer never answered (many never do); errc::truncated if it hung
    // up without one. Application data that arrives meanwhile is discarded.
    std::error_code shutdown(clock::time_point deadline) noexcept {
        if (const auto ec = shutdown_send())
            return ec;
        if (const auto ec = flush_until(deadline))
            return ec;
        std::byte discard[4096];
        for (;;) {
            const io_result r = read(discard, deadline);
            if (r.error == errc::end_of_stream)
                return {};
            if (r.error)
                return r.error;
        }
    }

    // TLS 1.3 KeyUpdate (errc::invalid_state under TLS 1.2): new sending keys now; with
    // `request_peer`, the peer is asked to change its own. The record is written like any other.
    std::error_code update_keys(bool request_peer) noexcept {
        if (error_)
            return error_;
        if (sent_close_)
            return errc::invalid_state; // nothing may follow our close_notify
        const provider_result r = provider_.update_keys(buffers_, request_peer);
        if (r.status == provider_status::error)
            return r.error == errc::invalid_state ? r.error : fail(r.error);
        const auto ec = flush();
        return ec == errc::would_block ? std::error_code() : ec;
    }

    // A TLS 1.3 server sends its session tickets after the handshake; a client that reads little
    // or nothing can wait for them here, so that its credentials keep a session for the next
    // connection. Reads from the transport until `at_least` tickets have arrived on this
    // connection, or until application data is waiting (it stays readable, byte for byte, by
    // read()): both are success. errc::timed_out at `deadline`, errc::end_of_stream if the peer
    // closed first, or the failure. Under TLS 1.2 it returns at once: the session came with the
    // handshake.
    std::error_code receive_session_tickets(clock::time_point deadline,
                                            unsigned at_least = 1) noexcept {
        static_assert(post_handshake_processing<Provider, Buffers>,
                      "receive_session_tickets() needs a provider with process_post_handshake() "
                      "and tickets_received()");
        for (;;) {
            if (error_)
                return error_;
            if (provider_.tickets_received() >= at_least) {
                idle();
                return {};
            }
            const provider_result r = provider_.process_post_handshake(buffers_);
            // What the engine owes the peer (a KeyUpdate answer) goes out now if it can.
            if (buffers_.output().size() != 0 && r.status != provider_status::error)
                flush();
            switch (r.status) {
            case provider_status::ok:
                return {};
            case provider_status::context_expired:
                return errc::end_of_stream;
            case provider_status::error:
            case provider_status::verdict_needed: // during the handshake only
            case provider_status::certificate_needed:
                fail(r.error ? r.error : make_error_code(errc::invalid_state));
                write_alert();
                return error_;
            case provider_status::continue_needed:
            case provider_status::incomplete_message:
                if (provider_.tickets_received() >= at_least) {
                    idle();
                    return {};
                }
                if (const auto ec = receive(r.missing_bytes); ec == errc::would_block) {
                    if (const auto waited = wait(wait_for::readable, deadline))
                        return waited;
                } else if (ec) {
                    return ec;
                }
                break;
            }
        }
    }

    // Once the peer's close_notify has been read: the transport and every byte the peer sent
    // after it, for a protocol that goes on in the clear (STARTTLS-style). The channel is spent.
    detached_connection<Transport, Buffers> detach() && noexcept {
        const std::error_code ec = provider_.closed_by_peer() && !error_
                                       ? std::error_code()
                                       : make_error_code(errc::invalid_state);
        return {std::move(transport_), std::move(buffers_), ec};
    }

    const std::error_code& error() const noexcept { return error_; }
    std::string error_detail() const { return provider_.error_detail(); }
    // QueryContextAttributes: empty after a failure.
    connection_attributes attributes() const { return query_attributes(provider_); }
    Provider& provider() noexcept { return provider_; }
    const Provider& provider() const noexcept { return provider_; }
    Transport& transport() noexcept { return transport_; }
    Buffers& buffers() noexcept { return buffers_; }
    const Buffers& buffers() const noexcept { return buffers_; }

private:
    // read_some() for one segment; without `may_receive`, only what needs no transport read.
    io_result read_into(std::span<std::byte> into, bool may_receive) noexcept {
        if (error_)
            return {0, error_};
        if (into.empty())
            return {0, {}};
        for (;;) {
            const decrypt_result r = decrypt(into);
            // What the engine owes the peer (a KeyUpdate answer, an alert) goes out now if it can.
            if (buffers_.output().size() != 0 && !error_)
                flush();
            switch (r.status) {
            case provider_status::ok:
                return {r.bytes, {}};
            case provider_status::context_expired:
                buffers_.input().release(); // kept if bytes after close_notify wait for detach()
                return {0, errc::end_of_stream};
            case provider_status::error:
            case provider_status::verdict_needed:     // decrypt() has made it an error
            case provider_status::certificate_needed: // likewise
                write_alert();
                buffers_.input().release();
                return {0, error_};
            case provider_status::continue_needed:
            case provider_status::incomplete_message:
                if (!may_receive)
                    return {0, errc::would_block};
                if (const auto ec = receive(r.missing_bytes))
                    return {0, ec};
                break;
            }
        }
    }

    // Plaintext whose records the output queue can hold now (at most max_write_chunk): a record
    // carries at most max_message_size bytes of plaintext and adds at most max_message_expansion.
    std::size_t writable() noexcept {
        auto& output = buffers_.output();
        constexpr std::size_t record = Provider::max_message_size;
        constexpr std::size_t expansion = Provider::max_message_expansion;
        const std::size_t free = output.max_size() - output.size();
        const std::size_t rest = free % (record + expansion);
        const std::size_t fits =
            free / (record + expansion) * record + (rest > expansion ? rest - expansion : 0);
        return std::min(fits, max_write_chunk);
    }

    io_result taken(std::size_t n) noexcept {
        const auto ec = flush();
        if (ec && ec != errc::would_block)
            return {0, ec};
        return {n, {}};
    }

    // Reads from the transport into the input, at least one byte; the end of stream classified.
    std::error_code receive(std::size_t missing) noexcept {
        const io_result got = detail::read_into_queue(transport_, buffers_.input(), missing);
        if (got.error == errc::would_block) {
            idle();
            return got.error;
        }
        if (got.error == errc::token_too_large && !error_) {
            // The peer's record can never fit this policy: the peer is owed an alert.
            provider_.reject_record(buffers_, got.error);
            error_ = got.error;
            write_alert();
        }
        if (got.error == errc::end_of_stream)
            return fail(buffers_.input().size() == 0 ? errc::truncated
                                                     : errc::truncated_mid_record);
        return got.error ? fail(got.error) : std::error_code();
    }

    // Nothing to read for now, between records: the memory that waiting needs none of goes back
    // (a pooled policy's block, the engine's record buffers).
    void idle() noexcept {
        buffers_.input().release();
        provider_.release_memory();
    }

    std::error_code wait(wait_for what, clock::time_point deadline) noexcept {
        const auto ec = transport_.wait(what, deadline);
        if (!ec || ec == std::errc::interrupted)
            return {};
        return ec == errc::timed_out ? ec : fail(ec);
    }

    std::error_code flush_until(clock::time_point deadline) noexcept {
        for (;;) {
            const auto ec = flush();
            if (ec != errc::would_block)
                return ec;
            if (const auto waited = wait(wait_for::writable, deadline))
                return waited;
        }
    }

    std::error_code fail(std::error_code ec) noexcept {
        if (!error_) {
            error_ = ec;
            provider_.abandon(ec);
        }
        return error_;
    }

    // The alert the engine wrote when it failed, as far as the transport takes it now.
    void write_alert() noexcept {
        std::size_t written = 0;
        static_cast<void>(detail::write_queued(transport_, buffers_.output(), written));
    }

    Provider provider_;
    Transport transport_;
    Buffers buffers_;
    std::error_code error_;
    bool sent_close_ = false;
};

// The channel a handshake becomes: basic_channel_for<decltype(handshake)>.
template <class Handshake>
using basic_channel_for =
    basic_channel<typename Handshake::provider_type, typename Handshake::transport_type,
                  typename Handshake::buffer_type>;

} // namespace secctx
