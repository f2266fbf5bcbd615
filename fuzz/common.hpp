// What the TLS fuzz targets share: a deterministic random generator installed in OpenSSL, a fixed
// PKI, credentials, a real handshake recorded in process, and the handshake targets' driver.
//
// Why determinism matters here beyond reproducing crashes: with the random generator reset before
// every input, a client (or server) makes the same ClientHello (or ServerHello, key share and
// signature) on every run, so bytes recorded from a real peer stay valid input. The handshake
// targets replay recorded flights that complete the handshake, and the channel target's corpus
// holds records that decrypt, so the fuzzer starts deep instead of at the first message.
#pragma once

#include "input.hpp"

#include "secctx/secctx.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace secctx::fuzz {

// ---- deterministic randomness ----

// A splitmix64 counter-mode stream. Each end of a handshake draws from its own stream, so an end
// run alone (against recorded bytes) draws exactly what it drew when the recording was made.
struct rand_stream {
    std::uint64_t state;

    void fill(unsigned char* out, int n) noexcept {
        for (int i = 0; i < n; ++i) {
            if (i % 8 == 0) {
                state += 0x9E3779B97F4A7C15u;
                word = state;
                word = (word ^ (word >> 30)) * 0xBF58476D1CE4E5B9u;
                word = (word ^ (word >> 27)) * 0x94D049BB133111EBu;
                word ^= word >> 31;
            }
            out[i] = static_cast<unsigned char>(word >> (8 * (i % 8)));
        }
    }

    std::uint64_t word = 0;
};

inline constexpr std::uint64_t setup_seed = 0x5ECC7800;
inline constexpr std::uint64_t client_seed = 0xC11E47;
inline constexpr std::uint64_t server_seed = 0x5E7E7;

inline rand_stream setup_stream{setup_seed};
inline rand_stream client_stream{client_seed};
inline rand_stream server_stream{server_seed};
inline rand_stream* active_stream = &setup_stream;

inline void draw_from(rand_stream& stream) noexcept {
    active_stream = &stream;
}

// Every input starts from the same state, whatever earlier inputs drew.
inline void reset_streams() noexcept {
    client_stream = {client_seed};
    server_stream = {server_seed};
}

// OpenSSL 3.0 still routes RAND_bytes and RAND_priv_bytes (the TLS randoms, key shares, ECDSA
// nonces, key generation) through a method set with RAND_set_rand_method when the default library
// context is used. Not covered: an EVP_RAND a caller fetches itself, and anything that depends on
// the clock (certificate validity is checked against the real time, hence the PKI below lasts a
// century).
inline void install_deterministic_rand() {
    static RAND_METHOD method = {
        [](const void*, int) { return 1; },
        [](unsigned char* out, int n) {
            active_stream->fill(out, n);
            return 1;
        },
        [] {},
        [](const void*, int, double) { return 1; },
        [](unsigned char* out, int n) {
            active_stream->fill(out, n);
            return 1;
        },
        [] { return 1; },
    };
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    check(RAND_set_rand_method(&method) == 1, "RAND_set_rand_method");
#pragma GCC diagnostic pop
}

// ---- a fixed PKI ----

// Made once with the openssl commands in fuzz/README.md, valid for a century: certificates made at
// run time would carry the time they were made, which changes the handshake transcript, and then
// recorded bytes would no longer verify in a later process.
inline constexpr const char* ca_pem = R"(
-----BEGIN CERTIFICATE-----
MIIBmjCCAT+gAwIBAgIUV9z1/LTga22WW7Cu1l+420OwGPswCgYIKoZIzj0EAwIw
GTEXMBUGA1UEAwwOc2VjY3R4IGZ1enogQ0EwIBcNMjYxMTI2MTY1NTQ2WhgPMjEy
NjExMDIxNjU1NDZaMBkxFzAVBgNVBAMMDnNlY2N0eCBmdXp6IENBMFkwEwYHKoZI
zj0CAQYIKoZIzj0DAQcDQgAEHJ4ajjxafGjseRC33kmuhQ9inNxB+OvkOrcAV6xB
GnwLx6aQy9wJn7NUc/XOqvD8ErVkJYA1j7+XoiU1NJLjOaNjMGEwHQYDVR0OBBYE
FJpV/cp3G4ciSm7BR9CHMg4CpOjfMB8GA1UdIwQYMBaAFJpV/cp3G4ciSm7BR9CH
Mg4CpOjfMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgIEMAoGCCqGSM49
BAMCA0kAMEYCIQDkUyMGMmY3iq83jTXNlGhs8vv99n1ZXrWOtgiwc3CjdwIhAJF1
a2vEUTvWrVPrbL3rRfQfURBAFGmSF+W/cpEIDZ5t
-----END CERTIFICATE-----
)";

inline constexpr const char* leaf_pem = R"(
-----BEGIN CERTIFICATE-----
MIIBqjCCAU+gAwIBAgIUCBtvH7QGKNZRwUwMzU6Tym+WlhEwCgYIKoZIzj0EAwIw
GTEXMBUGA1UEAwwOc2VjY3R4IGZ1enogQ0EwIBcNMjYxMTI2MTY1NTQ2WhgPMjEy
NjExMDIxNjU1NDZaMBQxEjAQBgNVBAMMCWxvY2FsaG9zdDBZMBMGByqGSM49AgEG
CCqGSM49AwEHA0IABN9ze5qMeyjbGrBl6DdSPqGcbly70ylw9PdGUT6Yeg8EavBw
Sdm64cOoumDd0aFNQPQgCehAUGdEGVzdkBDeucujeDB2MBQGA1UdEQQNMAuCCWxv
Y2FsaG9zdDAJBgNVHRMEAjAAMBMGA1UdJQQMMAoGCCsGAQUFBwMBMB0GA1UdDgQW
BBSJnDpsbr6m3zvBohfQLMfmac0FDDAfBgNVHSMEGDAWgBSaVf3KdxuHIkpuwUfQ
hzIOAqTo3zAKBggqhkjOPQQDAgNJADBGAiEAw6fhYLorF87dhGmBQZQzbEY8Idge
pfTyc0O5fe/eZ4ACIQDbsSV3iIRXID3XvKKGEdpPC+x8cB6uSjOuQc7Y5NoBTQ==
-----END CERTIFICATE-----
)";

inline constexpr const char* leaf_key_pem = R"(
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg+qrXz6NffrLOXzwc
sPvJWoxEYWJDGg9QcJxHq64kJBShRANCAATfc3uajHso2xqwZeg3Uj6hnG5cu9Mp
cPT3RlE+mHoPBGrwcEnZuuHDqLpg3dGhTUD0IAnoQFBnRBlc3ZAQ3rnL
-----END PRIVATE KEY-----
)";

// ---- memory transport helpers ----

inline bytes drain(memory_transport& end) {
    bytes out;
    std::byte chunk[4096];
    for (;;) {
        const io_result r = end.read_some(chunk);
        if (r.error || r.bytes == 0)
            return out;
        out.insert(out.end(), chunk, chunk + r.bytes);
    }
}

inline void put(memory_transport& end, std::span<const std::byte> data) {
    while (!data.empty()) {
        const io_result r = end.write_some(data);
        check(!r.error && r.bytes != 0, "the memory link takes what a target writes");
        data = data.subspan(r.bytes);
    }
}

// ---- credentials and a recorded handshake ----

using client_handshake = basic_handshake<client, memory_transport, dynamic_buffer>;
using server_handshake = basic_handshake<server, memory_transport, dynamic_buffer>;

inline server_config fuzz_server_config(tls_version version) {
    server_config config;
    config.certificate_chain = pem_source::from_memory(leaf_pem);
    config.private_key = pem_source::from_memory(leaf_key_pem);
    config.min_version = config.max_version = version;
    // A ticket carries the time it was issued; in TLS 1.2 it is part of the transcript. A cached
    // session would make a run depend on the inputs before it (and under TLS 1.3 would be sent
    // as a ticket).
    config.session_tickets = false;
    config.session_cache_size = 0;
    return config;
}

inline client_config fuzz_client_config() {
    client_config config;
    config.trust.certificates = pem_source::from_memory(ca_pem);
    // A cached session would make a run depend on the inputs before it.
    config.resume_sessions = false;
    return config;
}

// The bytes each way of one real handshake.
struct conversation {
    bytes to_server;
    bytes to_client;
};

// A client and a server, each over its own memory link, with the bytes between them relayed (and
// kept) by whoever drives them; each end draws from its own random stream.
struct handshake_pair {
    handshake_pair(const credentials& client_creds, const credentials& server_creds) {
        draw_from(client_stream);
        client.emplace(secctx::client{client_creds, "localhost"}, client_link.client_end());
        draw_from(server_stream);
        server.emplace(secctx::server{server_creds}, server_link.server_end());
    }

    // Steps both ends to the end of the handshake; true if both are done.
    bool run(conversation* record = nullptr) {
        for (int round = 0; round < 32; ++round) {
            draw_from(client_stream);
            const step_result c = client->step();
            relay(client_side, server_side, record ? &record->to_server : nullptr);
            draw_from(server_stream);
            const step_result s = server->step();
            relay(server_side, client_side, record ? &record->to_client : nullptr);
            if (c.status == step_status::failed || s.status == step_status::failed)
                return false;
            if (c.status == step_status::done && s.status == step_status::done)
                return true;
        }
        return false;
    }

    static void relay(memory_transport& from, memory_transport& to, bytes* record) {
        const bytes moved = drain(from);
        put(to, moved);
        if (record != nullptr)
            record->insert(record->end(), moved.begin(), moved.end());
    }

    memory_link client_link;
    memory_link server_link;
    // The far ends: what the client wrote arrives at client_side, what goes in server_side reaches
    // the server.
    memory_transport client_side = client_link.server_end();
    memory_transport server_side = server_link.client_end();
    std::optional<client_handshake> client;
    std::optional<server_handshake> server;
};

// Built once per process, before anything draws a random number.
struct environment {
    environment() : client_creds((install_deterministic_rand(), make_client())) {
        record(tls_version::tls1_3);
        record(tls_version::tls1_2);
    }

    static const environment& get() {
        static const environment instance;
        return instance;
    }

    const credentials& server_creds(tls_version version) const {
        return version == tls_version::tls1_3 ? server13 : server12;
    }
    const conversation& recorded(tls_version version) const {
        return version == tls_version::tls1_3 ? recorded13 : recorded12;
    }

    credentials client_creds;
    credentials server13 = credentials::server(fuzz_server_config(tls_version::tls1_3));
    credentials server12 = credentials::server(fuzz_server_config(tls_version::tls1_2));
    conversation recorded13;
    conversation recorded12;

private:
    static credentials make_client() { return credentials::client(fuzz_client_config()); }

    void record(tls_version version) {
        reset_streams();
        handshake_pair pair(client_creds, server_creds(version));
        check(pair.run(version == tls_version::tls1_3 ? &recorded13 : &recorded12),
              "the recorded handshake completes");
    }
};

using client_channel = basic_channel_for<client_handshake>;
using server_channel = basic_channel_for<server_handshake>;

// Two secure channels after a real handshake, from reset random streams: the same keys in every
// run and every process, so records recorded from one channel decrypt in the other later.
struct channel_pair {
    explicit channel_pair(tls_version version)
        : handshakes((reset_streams(), environment::get().client_creds),
                     environment::get().server_creds(version)) {
        check(handshakes.run(), "the channel's handshake completes");
        client.emplace(std::move(*handshakes.client));
        server.emplace(std::move(*handshakes.server));
    }

    handshake_pair handshakes;
    std::optional<client_channel> client;
    std::optional<server_channel> server;
};

// The options byte at the front of the handshake and channel targets' input.
inline tls_version version_from(std::uint8_t options) noexcept {
    return (options & 1) != 0 ? tls_version::tls1_2 : tls_version::tls1_3;
}

// Feeds `payload` to one end of a handshake in the pieces `split` decides, discarding what the
// end writes, then closes the transport if `close` says so. Checks what the handshake promises
// whatever the bytes: nothing received is lost or invented, a failure stays failed with its error,
// and once done the bytes left over are exactly the tail of what was fed.
template <class Handshake>
void feed_handshake(Handshake& handshake, memory_transport& peer,
                    std::span<const std::byte> payload, chunking& split, bool close) {
    std::size_t sent = 0;
    step_result r = handshake.step();
    for (;;) {
        drain(peer);
        if (r.status == step_status::done || r.status == step_status::failed)
            break;
        check(r.status == step_status::want_read, "a memory transport never refuses a write");
        check(r.missing_bytes >= 1, "want_read names at least one missing byte");
        if (sent == payload.size()) {
            if (!close)
                break;
            close = false;
            peer.close();
        } else {
            const std::size_t n = split.next(payload.size() - sent);
            put(peer, payload.subspan(sent, n));
            sent += n;
        }
        r = handshake.step();
    }
    const auto received = handshake.metrics().bytes_received;
    check(received + handshake.transport().pending() == sent, "received + pending == fed");
    if (r.status == step_status::failed) {
        check(static_cast<bool>(r.error), "a failure has an error");
        check(!handshake.done(), "a failed handshake is not done");
        const step_result again = handshake.step();
        check(again.status == step_status::failed && again.error == r.error,
              "a failure is terminal, with the same error");
    }
    if (r.status == step_status::done) {
        const auto extra = handshake.extra();
        const auto fed = payload.first(received);
        check(extra.size() <= fed.size() &&
                  std::equal(extra.begin(), extra.end(),
                             fed.end() - static_cast<std::ptrdiff_t>(extra.size())),
              "the bytes after the handshake are the tail of what was fed");
    }
}

// ---- the two handshake targets ----

// Input: an options byte, the chunking, then the payload. Options: bit 0 the version (TLS 1.2 if
// set), bit 1 the mode (the payload edits the peer's bytes recorded from a real handshake in this
// process, instead of being the peer's bytes itself), bit 2 pooled buffers with blocks smaller
// than a record (so a large record meets the policy's limit) instead of dynamic ones, bit 3 the
// peer closes the transport once the payload is sent.
// True if the handshake completed.
template <class Role, class Buffers>
bool handshake_with(Role role, Buffers buffers, std::span<const std::byte> payload, chunking& split,
                    bool close) {
    draw_from(Role::kind == role_kind::client ? client_stream : server_stream);
    memory_link link;
    const bool is_client = Role::kind == role_kind::client;
    memory_transport peer = is_client ? link.server_end() : link.client_end();
    basic_handshake<Role, memory_transport, Buffers> handshake{
        std::move(role), is_client ? link.client_end() : link.server_end(), std::move(buffers)};
    feed_handshake(handshake, peer, payload, split, close);
    return handshake.done();
}

template <role_kind Kind>
int handshake_target(const std::uint8_t* data, std::size_t size) {
    const auto& env = environment::get();
    reset_streams();
    input in(data, size);
    const std::uint8_t options = in.byte();
    chunking split(in);
    const tls_version version = version_from(options);
    const conversation& recorded = env.recorded(version);
    const bytes payload =
        (options & 2) != 0
            ? mutate(Kind == role_kind::client ? recorded.to_client : recorded.to_server, in)
            : bytes(in.rest().begin(), in.rest().end());
    const bool close = (options & 8) != 0;
    const auto role = [&] {
        if constexpr (Kind == role_kind::client)
            return client{env.client_creds, "localhost"};
        else
            return server{env.server_creds(version)};
    };
    if ((options & 4) != 0) {
        static buffer_pool pool(4, 4096);
        handshake_with(role(), pooled_buffer(pool), payload, split, close);
        check(pool.in_use() == 0, "a finished handshake holds no pooled block");
    } else {
        handshake_with(role(), dynamic_buffer(), payload, split, close);
    }
    return 0;
}

// `bytes` as text for a PEM parser: as they are, or (`wrap`) base64-encoded in a PEM block with
// `label`, so that the DER parser behind it gets them directly.
inline std::string pem_text(std::span<const std::byte> bytes, bool wrap, const char* label) {
    if (!wrap)
        return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
    std::string base64(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(base64.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()),
                                  static_cast<int>(bytes.size()));
    base64.resize(static_cast<std::size_t>(n));
    std::string pem = std::string("-----BEGIN ") + label + "-----\n";
    for (std::size_t at = 0; at < base64.size(); at += 64)
        pem += base64.substr(at, 64) + "\n";
    return pem + "-----END " + label + "-----\n";
}

} // namespace secctx::fuzz
