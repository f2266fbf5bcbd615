// The certificate map's rules and its text form (certificate_map.hpp), without a handshake: every
// kind of rule, their precedence, patterns, and each malformed line refused with its number.
#include "secctx/certificate_map.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace secctx;

namespace {

constexpr const char* fingerprint =
    "9b6af0fc2ffeecb72809f3d12813daa6a55fbe71b92fe38a950aa826f1f3376f";

std::vector<certificate_info> chain_of(std::string subject, std::string cn,
                                       std::vector<std::string> sans,
                                       std::string issuer = "CN=Example Clients CA",
                                       std::string print = fingerprint) {
    certificate_info leaf;
    leaf.subject = std::move(subject);
    leaf.common_name = std::move(cn);
    leaf.issuer = std::move(issuer);
    leaf.subject_alt_names = std::move(sans);
    leaf.sha256_fingerprint = std::move(print);
    return {leaf};
}

std::string identity_of(const certificate_map& map, const std::vector<certificate_info>& chain) {
    const auto found = map(chain);
    return found ? found->name : "-";
}

certificate_map parsed(const std::string& text) {
    std::error_code ec;
    std::string detail;
    auto map = certificate_map::parse(text, "clients.map", ec, &detail);
    BOOST_TEST_REQUIRE(!ec, detail);
    return map;
}

std::string refusal(const std::string& text) {
    std::error_code ec;
    std::string detail;
    const auto map = certificate_map::parse(text, "clients.map", ec, &detail);
    BOOST_TEST((ec == errc::invalid_configuration));
    BOOST_TEST(map.size() == 0u, "a refused file maps nothing");
    return detail;
}

} // namespace

BOOST_AUTO_TEST_CASE(each_kind_of_rule_maps_and_names_the_line_that_did) {
    const auto map =
        parsed("# clients of the billing service\n"
               "\n"
               "certificate 9B:6A:F0:FC:2F:FE:EC:B7:28:09:F3:D1:28:13:DA:A6:A5:5F:BE:71:"
               "B9:2F:E3:8A:95:0A:A8:26:F1:F3:37:6F  root\n"
               "email Alice@Example.COM alice\n"
               "upn bob@CORP.EXAMPLE bob\n"
               "dns api.example.com api-service\n"
               "uri spiffe://example.org/carol carol\n"
               "cn \"Dave Smith\" dave\r\n"
               "issuer \"CN=Example Clients CA\" subject \"*OU=ops*\" operators\n"
               "issuer \"cn=example clients ca\" san \"DNS:*.batch.example.com\" batch\n"
               "issuer \"CN=Example Clients CA\" everyone-else\n");
    BOOST_TEST(map.size() == 9u);
    const auto by_print = map(chain_of("CN=x", "x", {}));
    BOOST_TEST_REQUIRE(by_print.has_value());
    BOOST_TEST(by_print->name == "root");
    BOOST_TEST(by_print->rule == "clients.map:3 certificate");
    const std::string other = std::string(64, 'a');
    BOOST_TEST(identity_of(map, chain_of("CN=a", "a", {"email:alice@example.com"},
                                         "CN=Example Clients CA", other)) == "alice");
    BOOST_TEST(identity_of(map, chain_of("CN=b", "b", {"UPN:BOB@corp.example"},
                                         "CN=Example Clients CA", other)) == "bob");
    BOOST_TEST(identity_of(map, chain_of("CN=c", "c", {"DNS:API.example.com"},
                                         "CN=Example Clients CA", other)) == "api-service");
    BOOST_TEST(identity_of(map, chain_of("CN=c", "c", {"URI:spiffe://example.org/carol"},
                                         "CN=Example Clients CA", other)) == "carol");
    BOOST_TEST(identity_of(map, chain_of("CN=c", "c", {"URI:SPIFFE://example.org/carol"},
                                         "CN=Elsewhere", other)) == "-",
               "URIs compare exactly");
    BOOST_TEST(identity_of(map, chain_of("CN=Dave Smith", "Dave Smith", {}, "CN=Elsewhere",
                                         other)) == "dave");
    BOOST_TEST(identity_of(map, chain_of("CN=e,OU=ops,O=Example", "e", {}, "CN=Example Clients CA",
                                         other)) == "operators");
    BOOST_TEST(identity_of(map, chain_of("CN=f", "f", {"DNS:node7.batch.example.com"},
                                         "CN=Example Clients CA", other)) == "batch");
    BOOST_TEST(identity_of(map, chain_of("CN=g", "g", {}, "CN=Example Clients CA", other)) ==
               "everyone-else");
    BOOST_TEST(identity_of(map, chain_of("CN=g", "g", {}, "CN=Another CA", other)) == "-");
    BOOST_TEST(identity_of(map, {}) == "-", "no certificate, no identity");
}

BOOST_AUTO_TEST_CASE(certificates_come_before_names_and_names_before_issuers) {
    const auto map = parsed("issuer \"CN=Example Clients CA\" by-issuer\n"
                            "email alice@example.com by-name\n"
                            "certificate " +
                            std::string(fingerprint) + " by-certificate\n");
    BOOST_TEST(identity_of(map, chain_of("CN=a", "a", {"email:alice@example.com"})) ==
               "by-certificate");
    const std::string other = std::string(64, 'b');
    BOOST_TEST(identity_of(map, chain_of("CN=a", "a", {"email:alice@example.com"},
                                         "CN=Example Clients CA", other)) == "by-name");
    BOOST_TEST(identity_of(map, chain_of("CN=a", "a", {}, "CN=Example Clients CA", other)) ==
               "by-issuer");
}

BOOST_AUTO_TEST_CASE(patterns_match_runs_of_characters_without_blowing_up) {
    certificate_map map;
    BOOST_TEST(map.map_issuer("CN=CA", "x", "*a*a*a*a*a*a*a*a*a*a*b"));
    BOOST_TEST(identity_of(map, chain_of(std::string(5000, 'a'), "", {}, "CN=CA")) == "-");
    BOOST_TEST(identity_of(map, chain_of(std::string(5000, 'a') + "b", "", {}, "CN=CA")) == "x");
}

BOOST_AUTO_TEST_CASE(the_programmatic_rules_refuse_what_cannot_match) {
    certificate_map map;
    BOOST_TEST(!map.map_certificate("12:34", "x"));
    BOOST_TEST(!map.map_certificate(fingerprint, ""));
    BOOST_TEST(!map.map_name(name_field::email, "", "x"));
    BOOST_TEST(!map.map_issuer("", "x"));
    BOOST_TEST(map.size() == 0u);
}

BOOST_AUTO_TEST_CASE(every_malformed_line_is_refused_with_its_number) {
    struct bad {
        std::string text;
        std::string says;
    };
    const bad cases[] = {
        {"email a@b\n", "clients.map:1: expected: email <name> <identity>"},
        {"# fine\ncertificate 1234 x\n", "clients.map:2: a certificate fingerprint is 64 hex"},
        {"\n\nfingerprint " + std::string(fingerprint) + " x\n", "clients.map:3: unknown rule"},
        {"cn \"Dave x\n", "clients.map:1: a quoted field has no closing quote"},
        {"cn \"Dave\"x y\n", "clients.map:1: a quoted field must be followed by a space"},
        {"cn Da\"ve x\n", "clients.map:1: a quote inside a field"},
        {"cn \"a\\nb\" x\n", "clients.map:1: only \\\" and \\\\ may be escaped"},
        {"issuer \"CN=CA\"\n", "clients.map:1: expected: issuer"},
        {"issuer \"CN=CA\" subject a subject b x\n", "clients.map:1: after the issuer"},
        {"issuer \"CN=CA\" owner a x\n", "clients.map:1: after the issuer"},
        {"issuer \"CN=CA\" subject \"*\"\n",
         "clients.map:1: an issuer rule ends with the identity"},
        {"dns a.example \"\"\n", "clients.map:1: expected: dns <name> <identity>"},
        {"\"\" a b\n", "clients.map:1: unknown rule \"\""},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.text) {
            const std::string detail = refusal(c.text);
            BOOST_TEST(detail.rfind(c.says, 0) == 0u, detail);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_file_that_cannot_be_read_is_refused_with_its_name) {
    std::error_code ec;
    std::string detail;
    const auto map = certificate_map::load("/nonexistent/clients.map", ec, &detail);
    BOOST_TEST((ec == errc::invalid_configuration));
    BOOST_TEST(detail.find("/nonexistent/clients.map") != std::string::npos);
    BOOST_TEST(detail.find("No such file") != std::string::npos);
    const auto directory = certificate_map::load("/", ec, &detail);
    BOOST_TEST((ec == errc::invalid_configuration), "a directory is no map");
}
