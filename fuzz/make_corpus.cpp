// Writes the seed corpora (fuzz/corpus/TARGET/) from real handshakes and channels, and checks the
// determinism they rely on.
//
//   fuzz_make_corpus DIR   writes DIR/TARGET/NAME for every target
//   fuzz_make_corpus       only checks: a second recording in the process is byte for byte the
//                          first, each end fed its peer's recorded bytes completes the handshake,
//                          and records from one channel decrypt in a channel made again later.
#include "common.hpp"

#include <openssl/evp.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

using namespace secctx;

namespace {

struct corpus {
    std::filesystem::path directory; // empty: only check

    void write(const std::string& target, const std::string& name, const fuzz::bytes& content) {
        if (directory.empty())
            return;
        std::filesystem::create_directories(directory / target);
        std::ofstream out(directory / target / name, std::ios::binary);
        out.write(reinterpret_cast<const char*>(content.data()),
                  static_cast<std::streamsize>(content.size()));
        fuzz::check(static_cast<bool>(out), "the corpus file is written");
    }
};

fuzz::bytes join(std::initializer_list<std::uint8_t> head, std::span<const std::byte> tail) {
    fuzz::bytes out;
    for (const auto b : head)
        out.push_back(std::byte{b});
    out.insert(out.end(), tail.begin(), tail.end());
    return out;
}

fuzz::bytes concat(std::initializer_list<fuzz::bytes> parts) {
    fuzz::bytes out;
    for (const auto& part : parts)
        out.insert(out.end(), part.begin(), part.end());
    return out;
}

fuzz::bytes text_bytes(std::string_view text) {
    const auto span = std::as_bytes(std::span(text.data(), text.size()));
    return {span.begin(), span.end()};
}

const char* version_name(tls_version version) {
    return version == tls_version::tls1_3 ? "tls13" : "tls12";
}

// An end alone, fed its peer's recorded bytes in one piece, completes the handshake.
template <class Role>
bool completes(Role role, std::span<const std::byte> peer_bytes) {
    fuzz::input none(nullptr, 0);
    fuzz::chunking whole(none);
    return fuzz::handshake_with(std::move(role), dynamic_buffer(), peer_bytes, whole, false);
}

void handshakes(corpus& out) {
    const auto& env = fuzz::environment::get();
    for (const tls_version version : {tls_version::tls1_3, tls_version::tls1_2}) {
        const fuzz::conversation& recorded = env.recorded(version);
        fuzz::conversation again;
        fuzz::reset_streams();
        fuzz::handshake_pair pair(env.client_creds, env.server_creds(version));
        fuzz::check(pair.run(&again), "a second handshake completes");
        fuzz::check(again.to_server == recorded.to_server && again.to_client == recorded.to_client,
                    "with the streams reset, a handshake says the same bytes again");
        fuzz::reset_streams();
        fuzz::draw_from(fuzz::client_stream);
        fuzz::check(completes(client{env.client_creds, "localhost"}, recorded.to_client),
                    "a client alone completes against the recorded server");
        fuzz::reset_streams();
        fuzz::draw_from(fuzz::server_stream);
        fuzz::check(completes(server{env.server_creds(version)}, recorded.to_server),
                    "a server alone completes against the recorded client");

        const std::uint8_t v = version == tls_version::tls1_2 ? 1 : 0;
        const std::string name = version_name(version);
        for (const auto& [target, peer_bytes] :
             {std::pair{"server_handshake", recorded.to_server},
              std::pair{"client_handshake", recorded.to_client}}) {
            // Options, then the chunking: none, or reads of 1, 5 and 100 bytes in turn.
            out.write(target, name + "_whole", join({v, 0}, peer_bytes));
            out.write(target, name + "_split", join({v, 3, 0, 4, 99}, peer_bytes));
            out.write(target, name + "_pooled_closed",
                      join({std::uint8_t(v | 4 | 8), 0},
                           std::span(peer_bytes).first(peer_bytes.size() / 2)));
            // Edits of the recording: a byte flipped in the middle, a truncation near the end.
            const auto middle = static_cast<std::uint8_t>(peer_bytes.size() / 2 >> 8);
            const auto middle_low = static_cast<std::uint8_t>(peer_bytes.size() / 2);
            out.write(target, name + "_edit_flip",
                      join({std::uint8_t(v | 2), 2, 7, 63, middle, middle_low, 0, 0x40}, {}));
            out.write(target, name + "_edit_cut",
                      join({std::uint8_t(v | 2), 0, std::uint8_t(middle * 2), 0xF0, 3, 0}, {}));
        }
        out.write("record_framing", name + "_server_flight",
                  join({0xFF, 0xFF, 0x80}, recorded.to_client));
        out.write("record_framing", name + "_client_flight",
                  join({0, 6, 0x40}, recorded.to_server));
    }
}

// Records one channel writes, for the other to read: data, a key update asking for the peer's
// (TLS 1.3 has them), data under the new keys, close_notify.
template <class Channel>
fuzz::bytes records_from(Channel& channel, memory_transport& far_end, tls_version version) {
    const fuzz::bytes hello = text_bytes("hello over secctx");
    fuzz::bytes large(3000);
    for (std::size_t i = 0; i < large.size(); ++i)
        large[i] = std::byte{static_cast<unsigned char>(i * 7)};
    fuzz::check(channel.write_some(hello).bytes == hello.size(), "the channel writes");
    if (version == tls_version::tls1_3)
        fuzz::check(!channel.update_keys(true), "the channel updates its keys");
    fuzz::check(channel.write_some(large).bytes == large.size(), "the channel writes after");
    fuzz::check(!channel.shutdown_send(), "the channel sends close_notify");
    return fuzz::drain(far_end);
}

void channels(corpus& out) {
    for (const tls_version version : {tls_version::tls1_3, tls_version::tls1_2}) {
        const std::uint8_t v = version == tls_version::tls1_2 ? 1 : 0;
        const std::string name = version_name(version);
        fuzz::bytes to_client, to_server;
        {
            fuzz::channel_pair pair(version);
            fuzz::draw_from(fuzz::server_stream);
            to_client = records_from(*pair.server, pair.handshakes.server_side, version);
        }
        {
            fuzz::channel_pair pair(version);
            fuzz::draw_from(fuzz::client_stream);
            to_server = records_from(*pair.client, pair.handshakes.client_side, version);
        }
        {
            // Made again, the channel reads the recorded records: the keys are the same.
            fuzz::channel_pair pair(version);
            fuzz::draw_from(fuzz::client_stream);
            fuzz::put(pair.handshakes.client_side, to_client);
            std::byte into[4096];
            std::size_t plaintext = 0;
            io_result r;
            while (!(r = pair.client->read_some(into)).error)
                plaintext += r.bytes;
            fuzz::check(r.error == errc::end_of_stream && plaintext == 17 + 3000,
                        "recorded records decrypt in a channel made again");
        }
        // Options, a read size byte (n * 67 + 1 bytes), the chunking, the records.
        out.write("channel_receive", name + "_to_client", join({v, 255, 0}, to_client));
        out.write("channel_receive", name + "_to_client_split_scatter",
                  join({std::uint8_t(v | 4), 3, 2, 4, 200}, to_client));
        out.write("channel_receive", name + "_to_server_truncated",
                  join({std::uint8_t(v | 2 | 8), 0, 0},
                       std::span(to_server).first(to_server.size() - 9)));
    }
}

void buffers(corpus& out) {
    // Random operation sequences, one per policy and capacity, from a fixed seed.
    std::mt19937 rng(7);
    for (std::uint8_t policy = 0; policy < 8; ++policy) {
        fuzz::bytes ops;
        for (int i = 0; i < 200; ++i)
            ops.push_back(std::byte{static_cast<unsigned char>(rng())});
        const std::uint8_t capacity = policy < 4 ? 4 : 40;
        out.write("buffer_policies", "policy" + std::to_string(policy),
                  join({policy, capacity}, ops));
    }
}

fuzz::bytes der_of(std::string_view pem) {
    std::string base64;
    for (std::size_t at = pem.find('\n', pem.find("BEGIN")) + 1; pem.compare(at, 5, "-----") != 0;
         at = pem.find('\n', at) + 1)
        base64 += pem.substr(at, pem.find('\n', at) - at);
    fuzz::bytes der(base64.size());
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(der.data()),
                                  reinterpret_cast<const unsigned char*>(base64.data()),
                                  static_cast<int>(base64.size()));
    fuzz::check(n > 0, "the PEM decodes");
    // EVP_DecodeBlock counts the padding as zero bytes.
    der.resize(static_cast<std::size_t>(n) - std::count(base64.begin(), base64.end(), '='));
    return der;
}

void credentials_inputs(corpus& out) {
    const fuzz::bytes chain = text_bytes(fuzz::leaf_pem);
    const fuzz::bytes key_der = der_of(fuzz::leaf_key_pem);
    const fuzz::bytes ca_der = der_of(fuzz::ca_pem);
    const auto lengths = [](std::uint8_t options, std::size_t chain_size, std::size_t key_size) {
        return fuzz::bytes{std::byte{options}, std::byte(chain_size >> 8),
                           std::byte(chain_size & 0xFF), std::byte(key_size >> 8),
                           std::byte(key_size & 0xFF)};
    };
    // Options bit 0: a server's; bits 1-3 wrap the chain, key and CA as PEM around DER bytes.
    out.write("credentials", "server_pem",
              concat({lengths(1, chain.size(), std::strlen(fuzz::leaf_key_pem)), chain,
                      text_bytes(fuzz::leaf_key_pem)}));
    out.write("credentials", "client_pem", concat({lengths(0, 0, 0), text_bytes(fuzz::ca_pem)}));
    out.write("credentials", "server_key_der_client_ca_der",
              concat({lengths(1 | 4 | 8, chain.size(), key_der.size()), chain, key_der, ca_der}));
    out.write("credentials", "client_ca_der", concat({lengths(8, 0, 0), ca_der}));
}

} // namespace

int main(int argc, char** argv) {
    corpus out{argc > 1 ? std::filesystem::path(argv[1]) : std::filesystem::path()};
    handshakes(out);
    channels(out);
    buffers(out);
    credentials_inputs(out);
    std::puts(out.directory.empty() ? "determinism checked" : "corpus written");
    return 0;
}
