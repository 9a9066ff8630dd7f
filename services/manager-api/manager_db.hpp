// The manager's own database (SQLite): users (M1, M2), business groups and their mappings (M3),
// and the audit log. Blocking: called on the API's database lane, never on its I/O thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace hasys::manager {

struct user_record {
  std::string name;
  std::string password_hash;  // bcrypt $2b$
  bool admin = false;
  bool must_change_password = false;
  std::int64_t created_unix_ms = 0;
  bool read_only = false;  // watches (the NOC wall display); acts on nothing
};

// M3: a business group (업무그룹) with its HA groups and its users.
struct business_group {
  std::string name;
  std::vector<std::string> ha_groups, users;
};

// M4: a server the manager knows, registered by its node or added by hand.
struct server_record {
  std::string group, node, peer, public_address, heartbeat_address;
  std::vector<std::string> virtual_ips;
  std::string version;
  int protocol = 0;
  std::int64_t registered_unix_ms = 0;  // its latest registration; 0 never (added by hand)
  std::int64_t first_unix_ms = 0;
  bool manual = false;  // added by an administrator
  std::string note;
};

struct audit_entry {
  std::int64_t id = 0;
  std::int64_t time_unix_ms = 0;
  std::string user, address, action, target, result;
  std::string action_id;  // carried by the node's events an operation causes
};

// `bytes` random bytes (OpenSSL) as lower-case hex: session and CSRF tokens, action ids, the
// metrics token.
std::string random_hex(std::size_t bytes);

// bcrypt through libcrypt ($2b$, cost 4..31): slow on purpose, so called off the I/O thread.
std::string bcrypt_hash(const std::string& password, int cost);
bool bcrypt_verify(const std::string& password, const std::string& hash);

struct session_record {
  std::string id;  // session_id() of the cookie's value
  std::string user;
  std::string csrf;
  std::int64_t last_seen_unix_ms = 0;
};

class manager_db {
 public:
  static constexpr const char* default_user = "hasys";
  static constexpr const char* default_password = "manager";

  // Opens (creates) the database; a new one gets the default user hasys / manager, an admin
  // who must change the password at first login. Throws std::runtime_error naming the file.
  manager_db(const std::filesystem::path& file, int bcrypt_cost);
  ~manager_db();
  manager_db(const manager_db&) = delete;
  manager_db& operator=(const manager_db&) = delete;

  std::optional<user_record> user(const std::string& name);
  std::vector<user_record> users();
  // Each returns why it was refused, for the API's 4xx answer ("user 'x' exists"), or "".
  std::string add_user(const user_record& u);
  std::string update_user(const std::string& name, std::optional<std::string> password_hash,
                          std::optional<bool> admin, std::optional<bool> must_change,
                          std::optional<bool> read_only = std::nullopt);
  std::string delete_user(const std::string& name);

  // The HA groups a user may see (M3): every group for an admin (["*"]), else those of the
  // business groups they belong to.
  std::vector<std::string> scope(const std::string& user);
  // HA group -> the business groups it belongs to that the user may know of (all for an admin,
  // else the user's own).
  std::map<std::string, std::vector<std::string>> business_labels(const std::string& user);

  std::vector<business_group> business_groups();
  std::string add_business_group(const std::string& name);
  // Replaces the group's HA groups and users whole, in one transaction; refused whole (a user
  // that does not exist) with nothing changed.
  std::string set_business_group(const business_group& g);
  std::string delete_business_group(const std::string& name);

  // Registrations, many in one transaction (a fleet answering hello at once).
  void register_servers(const std::vector<server_record>& rs);
  std::vector<server_record> servers();
  std::string add_server(const server_record& r);
  std::string update_server(const std::string& group, const std::string& node,
                            std::optional<std::string> public_address,
                            std::optional<std::string> note);
  std::string delete_server(const std::string& group, const std::string& node);

  void audit(const audit_entry& e);
  std::vector<audit_entry> audit_log(std::int64_t before_id, int limit);
  std::optional<audit_entry> audit_by_id(std::int64_t id);

  // Sessions that survive a restart of the manager (by the id of their cookie, never its value).
  void save_session(const session_record& r);
  void delete_session(const std::string& id);
  void delete_sessions_of(const std::string& user, const std::string& except_id);
  // Those seen at or after `since_unix_ms`; older ones, and those of users that are gone, are
  // deleted.
  std::vector<session_record> sessions(std::int64_t since_unix_ms);

 private:
  void exec(const char* sql);
  sqlite3* db_ = nullptr;
  std::filesystem::path file_;
};

}  // namespace hasys::manager
