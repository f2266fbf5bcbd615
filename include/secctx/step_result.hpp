// What one step() of the handshake tells its caller: everything needed to act next, no state to
// guess (the rustls unbuffered-API lesson).
#pragma once

#include "secctx/tls/provider.hpp"

#include <cstddef>
#include <span>
#include <system_error>

namespace secctx {

enum class step_status {
    done,       // the context is established; `extra` is application data
    want_read,  // wait until the transport is readable, then step() again
    want_write, // wait until the transport is writable, then step() again
    // The validator deferred its verdict on the peer's certificate: give it through pending(),
    // then step() again. The deadline still runs.
    want_verdict,
    // SEC_I_INCOMPLETE_CREDENTIALS: the server asked for a client certificate and the selector
    // deferred its choice: give it through pending_certificate(), then step() again. The deadline
    // still runs.
    want_certificate,
    failed, // terminal: `error` says why; every later step() returns the same
};

// Who the leftover input belongs to (Schannel's SECBUFFER_EXTRA).
enum class extra_owner {
    handshake,   // the next provider call
    application, // the secure channel, after the handshake
};

struct step_result {
    step_status status = step_status::want_read;
    // The provider's last return code, in the source document's terms.
    provider_status provider = provider_status::continue_needed;
    std::error_code error;
    // Token bytes not yet taken by the transport (on failure: the alert owed to the peer). They
    // stay owned by the buffer policy; the span is valid until the next call.
    std::span<const std::byte> output;
    // Bytes received and not consumed by the provider, exactly; valid until the next call.
    std::span<const std::byte> extra;
    extra_owner extra_for = extra_owner::handshake;
    // With want_read: the fewest bytes that can make progress, from the pending record header
    // (the exact remainder of an incomplete record, or a record header's 5 bytes).
    std::size_t missing_bytes = 0;
};

} // namespace secctx
