// TLS for the manager API (see tls.hpp).
#include "tls.hpp"

#include <hasys/daemon/boot_id.hpp>

#include <boost/asio/ssl/context.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <stdexcept>

namespace hasys::manager {

namespace {

template <class T, void (*Free)(T*)>
struct owned {
  T* p;
  explicit owned(T* x) : p(x) {
    if (!p) throw std::runtime_error("OpenSSL could not allocate");
  }
  ~owned() { Free(p); }
  owned(const owned&) = delete;
  owned& operator=(const owned&) = delete;
};

// PEM text of what `write` puts in a memory BIO.
std::string pem(auto&& write) {
  owned<BIO, BIO_free_all> bio(BIO_new(BIO_s_mem()));
  if (write(bio.p) != 1) throw std::runtime_error("cannot encode the self-signed pair");
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.p, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

// Beside the key: says the pair was made here, so a pair left half written by a manager killed
// while making it is made again rather than refused.
std::filesystem::path self_signed_marker(const std::filesystem::path& key) {
  auto m = key;
  m += ".self-signed";
  return m;
}

void make_self_signed(const std::filesystem::path& cert, const std::filesystem::path& key,
                      const std::string& host) {
  owned<EVP_PKEY, EVP_PKEY_free> pkey(EVP_EC_gen("P-256"));
  owned<X509, X509_free> x(X509_new());
  X509_set_version(x.p, 2);
  owned<BIGNUM, BN_free> bn(BN_new());
  BN_rand(bn.p, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
  BN_to_ASN1_INTEGER(bn.p, X509_get_serialNumber(x.p));
  X509_gmtime_adj(X509_getm_notBefore(x.p), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x.p), 10L * 365 * 24 * 3600);
  X509_set_pubkey(x.p, pkey.p);
  auto* name = X509_get_subject_name(x.p);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("hasys"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(host.c_str()), -1, -1, 0);
  X509_set_issuer_name(x.p, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x.p, x.p, nullptr, nullptr, 0);
  const std::string san = "DNS:" + host + ",DNS:localhost,IP:127.0.0.1";
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, san.c_str()},
                            std::pair{NID_basic_constraints, "critical,CA:FALSE"},
                            std::pair{NID_ext_key_usage, "serverAuth"}}) {
    owned<X509_EXTENSION, X509_EXTENSION_free> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
    X509_add_ext(x.p, ext.p, -1);
  }
  if (X509_sign(x.p, pkey.p, EVP_sha256()) == 0)
    throw std::runtime_error("cannot sign the self-signed certificate");
  // The marker first, then each file whole (temp + rename): killed at any point, the next start
  // finds either nothing, or an incomplete pair of its own that it makes again.
  hasys::daemon::write_file_atomically(self_signed_marker(key), "made by hasys-manager-api\n");
  hasys::daemon::write_file_atomically(key, pem([&](BIO* b) {
                                         return PEM_write_bio_PrivateKey(
                                             b, pkey.p, nullptr, nullptr, 0, nullptr, nullptr);
                                       }),
                                       0600);
  hasys::daemon::write_file_atomically(cert,
                                       pem([&](BIO* b) { return PEM_write_bio_X509(b, x.p); }));
}

}  // namespace

std::unique_ptr<boost::asio::ssl::context> make_tls_context(const std::filesystem::path& cert,
                                                            const std::filesystem::path& key,
                                                            const std::string& host) {
  namespace ssl = boost::asio::ssl;
  bool have_cert = std::filesystem::exists(cert), have_key = std::filesystem::exists(key);
  if (have_cert != have_key && std::filesystem::exists(self_signed_marker(key))) {
    // Our own pair, cut short while being made: made again.
    std::filesystem::remove(cert);
    std::filesystem::remove(key);
    have_cert = have_key = false;
  }
  if (!have_cert && !have_key) {
    if (!cert.parent_path().empty()) std::filesystem::create_directories(cert.parent_path());
    if (!key.parent_path().empty()) std::filesystem::create_directories(key.parent_path());
    make_self_signed(cert, key, host);
  } else if (!have_cert || !have_key) {
    throw std::runtime_error("TLS: " + (have_cert ? key : cert).string() +
                             " is missing (its pair exists; give both or neither)");
  }
  auto c = std::make_unique<ssl::context>(ssl::context::tls_server);
  auto* native = c->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // TLS 1.2: forward secrecy with AES-256-GCM or ChaCha20 only; TLS 1.3: the same two.
  if (SSL_CTX_set_cipher_list(native,
                              "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                              "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305") != 1 ||
      SSL_CTX_set_ciphersuites(native, "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256") != 1)
    throw std::runtime_error("TLS: the cipher suites are not available");
  boost::system::error_code ec;
  c->use_certificate_chain_file(cert.string(), ec);
  if (ec)
    throw std::runtime_error("TLS: cannot use the certificate " + cert.string() + ": " +
                             ec.message());
  c->use_private_key_file(key.string(), ssl::context::pem, ec);
  if (ec) throw std::runtime_error("TLS: cannot use the key " + key.string() + ": " + ec.message());
  if (SSL_CTX_check_private_key(native) != 1)
    throw std::runtime_error("TLS: the key " + key.string() + " does not match " + cert.string());
  return c;
}

}  // namespace hasys::manager
