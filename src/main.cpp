// The exceed command: `serve` runs the server; `user add|list` manage the
// agents and supervisors stored in Redis; `assess-eval` measures the
// assessment against a labelled corpus. Command-line and config loading
// only; everything else lives in the layers below.
#include "app/app.hpp"
#include "app/assess_eval.hpp"
#include "app/assessment_rules.hpp"
#include "app/config.hpp"
#include "app/users.hpp"
#include "store/cluster.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/program_options.hpp>
#include <spdlog/spdlog.h>

#include <termios.h>
#include <unistd.h>
#ifdef EXCEED_WITH_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

extern char** environ;

namespace {
namespace asio = boost::asio;
namespace po = boost::program_options;
using namespace exceed;

constexpr int exit_usage = 2;
constexpr std::string_view version = app::exceed_version;

// The allocator the binary runs on (EXCEED_JEMALLOC in CMakeLists.txt), for
// `exceed version` and the start-up line: figures differ by a fifth of the
// server's CPU between the two (docs/PERFORMANCE.md).
std::string allocator() {
#ifdef EXCEED_WITH_JEMALLOC
  char const* v = nullptr;
  std::size_t size = sizeof v;
  if (mallctl("version", &v, &size, nullptr, 0) == 0 && v) return "jemalloc " + std::string(v);
  return "jemalloc";
#else
  return "glibc malloc";
#endif
}

std::map<std::string, std::string> environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string_view::npos) env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return env;
}

void usage() {
  std::cout << "usage:\n"
               "  exceed serve [--config FILE] [--listen HOST:PORT] [--redis URL] [--log-level LEVEL]\n"
               "               [--tls-cert FILE --tls-key FILE]   (serve https and wss only)\n"
               "  exceed user add USERNAME --role agent|supervisor [--name \"Full Name\"] [--teams a,b]\n"
               "                  [--capacity N] [--redis URL] [--config FILE]   (password on standard input)\n"
               "  exceed user list [--redis URL] [--config FILE]\n"
               "  exceed user disable|enable|delete|passwd USERNAME [--redis URL] [--config FILE]\n"
               "                  (disable, delete and passwd end every session and token of the user;\n"
               "                   passwd reads the new password on standard input)\n"
               "  exceed assess-eval FILE... [--rules FILE] [--lexicon FILE --lexicon-format vader|afinn]\n"
               "                  [--min-explicit PCT] [--min-inferred PCT] [--verbose]\n"
               "      agreement of the assessment with a labelled corpus (tests/assessment/); exits 1\n"
               "      when explicit or inferred agreement is below the given minimum\n"
               "  exceed version\n"
               "Settings: config file (TOML, see config/exceed.toml), then EXCEED_<SECTION>_<KEY>\n"
               "environment variables (EXCEED_REDIS_URL, EXCEED_AUTH_TOKEN_SECRET, ...), then flags.\n";
}

// Config from --config (or EXCEED_CONFIG), the environment and the flags.
app::Config load(po::variables_map const& vm) {
  auto env = environment();
  std::string path;
  if (vm.count("config")) path = vm["config"].as<std::string>();
  else if (auto it = env.find("EXCEED_CONFIG"); it != env.end()) path = it->second;
  auto c = app::load_config(path, env);
  if (vm.count("listen")) app::apply_setting(c, "server.listen", vm["listen"].as<std::string>(), "--listen");
  if (vm.count("redis")) app::apply_setting(c, "redis.url", vm["redis"].as<std::string>(), "--redis");
  if (vm.count("log-level")) app::apply_setting(c, "log.level", vm["log-level"].as<std::string>(), "--log-level");
  if (vm.count("tls-cert")) app::apply_setting(c, "server.tls_cert", vm["tls-cert"].as<std::string>(), "--tls-cert");
  if (vm.count("tls-key")) app::apply_setting(c, "server.tls_key", vm["tls-key"].as<std::string>(), "--tls-key");
  return c;
}

void setup_logging(app::Config const& c) {
  spdlog::set_level(spdlog::level::from_str(c.log.level));
  if (c.log.json)
    spdlog::set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","pid":%P,"msg":"%v"})");
  else
    spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
}

int serve(po::variables_map const& vm) {
  app::Config config = load(vm);
  app::validate(config, vm.count("config") ? vm["config"].as<std::string>() : "configuration");
  app::load_assessment_rules(config);
  setup_logging(config);
  if (!config.assessment.rules.language)
    spdlog::warn("assessment: no sentiment lexicon ({} missing or without [language]): the customer's words are not read",
                 config.assessment.rules_file);
  spdlog::info("exceed {} ({}): strategy {}, default team '{}', offer timeout {}s, grace {}s, max frame {} bytes",
               version, allocator(), config.routing.strategy == core::Strategy::least_busy ? "least_busy" : "round_robin",
               config.routing.default_team, config.routing.offer_timeout_s, config.routing.agent_grace_s,
               config.limits.max_frame_bytes);

  asio::io_context io(1);
  app::App server(io, config);
  // Signals are caught before the port opens: a SIGTERM right after
  // "listening" (a supervisor stopping a fresh process) is a graceful stop.
  asio::signal_set signals(io, SIGINT, SIGTERM);
  try {
    server.start();
  } catch (std::system_error const& e) {
    spdlog::critical("cannot listen on {}:{}: {}", config.server.host, config.server.port, e.what());
    return 1;
  }
  signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (ec) return;
    spdlog::info("signal {}: shutting down", sig);
    server.stop([&io] { io.stop(); });
    // A second signal stops at once.
    signals.async_wait([&io](boost::system::error_code e, int) {
      if (!e) io.stop();
    });
  });
  io.run();
  return 0;
}

std::string read_password() {
  bool tty = isatty(STDIN_FILENO);
  termios old{};
  if (tty) {
    std::cerr << "password: " << std::flush;
    tcgetattr(STDIN_FILENO, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string pw;
  std::getline(std::cin, pw);
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::cerr << "\n";
  }
  if (!pw.empty() && pw.back() == '\r') pw.pop_back();
  return pw;
}

// Runs one coroutine against Redis and returns its exit code.
template <class F>
int with_store(app::Config const& config, F body) {
  app::validate_store(config, "configuration");
  std::string why;
  asio::io_context io(1);
  std::shared_ptr<store::Connection> conn;
  std::string where;  // for "cannot reach"
  if (!config.redis.cluster.empty()) {
    auto seeds = store::parse_cluster_seeds(config.redis.cluster, &why);
    if (!seeds) {
      std::cerr << "exceed: redis.cluster: " << why << "\n";
      return exit_usage;
    }
    where = "the cluster (" + config.redis.cluster.front() + ", ...)";
    store::ClusterOptions copt;
    copt.redirects.scripts_follow_ask = false;  // as serve's (App::start)
    conn = store::Cluster::create(io.get_executor(), std::move(*seeds), copt);
  } else {
    auto ep = store::Endpoint::parse(config.redis.url, &why);
    if (!ep) {
      std::cerr << "exceed: redis.url: " << why << "\n";
      return exit_usage;
    }
    // With sentinels configured, the primary is the one they name, as for serve.
    if (!config.redis.sentinels.empty() && !ep->use_sentinels(config.redis.sentinels, config.redis.master_name, &why)) {
      std::cerr << "exceed: redis.sentinels: " << why << "\n";
      return exit_usage;
    }
    where = ep->describe();
    conn = store::Connection::create(io.get_executor(), *ep);
  }
  app::Db db(conn, config.redis.prefix);
  int rc = 1;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        asio::steady_timer t(io);
        for (int i = 0; i < 50 && !conn->connected(); ++i) {
          t.expires_after(std::chrono::milliseconds(100));
          co_await t.async_wait(asio::use_awaitable);
        }
        if (!conn->connected()) {
          std::cerr << "exceed: cannot reach Redis at " << where << "\n";
        } else {
          rc = co_await body(db);
        }
        conn->stop();
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  conn->start();
  io.run();
  return rc;
}

// exceed user disable|enable|delete|passwd USERNAME
int account_command(std::string const& verb, std::string const& username, app::Config const& config) {
  static std::map<std::string, app::AccountChange> const verbs{{"disable", app::AccountChange::disable},
                                                              {"enable", app::AccountChange::enable},
                                                              {"delete", app::AccountChange::remove},
                                                              {"passwd", app::AccountChange::password}};
  auto it = verbs.find(verb);
  if (it == verbs.end()) {
    usage();
    return exit_usage;
  }
  std::string hash;
  if (it->second == app::AccountChange::password) {
    auto password = read_password();
    if (password.size() < 8) {
      std::cerr << "exceed: the password must be at least 8 characters\n";
      return exit_usage;
    }
    hash = app::hash_password(password, config.auth.password_iterations);
  }
  auto change = it->second;
  return with_store(config, [&](app::Db& db) -> asio::awaitable<int> {
    store::AccountStore accounts(db.store());
    auto o = co_await app::change_account(accounts, username, change, hash);
    if (!o) {
      std::cerr << "exceed: " << o.failure().message << "\n";
      co_return 1;
    }
    static std::map<app::AccountChange, char const*> const done{
        {app::AccountChange::disable, "disabled %s: every session and token ended"},
        {app::AccountChange::enable, "enabled %s"},
        {app::AccountChange::remove, "deleted %s: every session and token ended"},
        {app::AccountChange::password, "new password for %s: every session and token ended"}};
    std::string line = done.at(change);
    line.replace(line.find("%s"), 2, username);
    std::cout << line << "\n";
    co_return 0;
  });
}

int user_command(std::vector<std::string> const& args, po::variables_map const& vm) {
  app::Config config = load(vm);
  spdlog::set_level(spdlog::level::warn);
  if (args.size() >= 2 && args[1] == "list") {
    return with_store(config, [](app::Db& db) -> asio::awaitable<int> {
      store::AccountStore accounts(db.store());
      auto rows = co_await app::list_users(accounts);
      if (!rows) {
        std::cerr << "exceed: " << rows.failure().message << "\n";
        co_return 1;
      }
      std::cout << "username\trole\tid\tname\tteams\tcapacity\tstatus\n";
      for (std::size_t line = 0; line < rows->size(); ++line) {  // (index loops in coroutines: g++ 12)
        auto const& r = (*rows)[line];
        for (std::size_t i = 0; i < r.size(); ++i) std::cout << (i ? "\t" : "") << r[i];
        std::cout << "\n";
      }
      co_return 0;
    });
  }
  if (args.size() == 3 && args[1] != "add") return account_command(args[1], args[2], config);
  if (args.size() != 3 || args[1] != "add") {
    usage();
    return exit_usage;
  }
  app::NewUser u;
  u.username = args[2];
  u.role = vm.count("role") ? vm["role"].as<std::string>() : "";
  u.name = vm.count("name") ? vm["name"].as<std::string>() : u.username;
  u.capacity = vm.count("capacity") ? vm["capacity"].as<int>() : config.routing.default_capacity;
  if (!app::valid_username(u.username)) {
    std::cerr << "exceed: a username is 1-64 of letters, digits and . _ @ -\n";
    return exit_usage;
  }
  if (u.role != "agent" && u.role != "supervisor") {
    std::cerr << "exceed: --role must be agent or supervisor\n";
    return exit_usage;
  }
  if (u.capacity < 1 || u.capacity > 50) {
    std::cerr << "exceed: --capacity must be 1..50\n";
    return exit_usage;
  }
  std::stringstream teams(vm.count("teams") ? vm["teams"].as<std::string>() : config.routing.default_team);
  for (std::string t; std::getline(teams, t, ',');) {
    if (t.empty()) continue;
    if (!app::valid_team(t)) {
      std::cerr << "exceed: team '" << t << "' must be 1-64 of letters, digits and . _ -\n";
      return exit_usage;
    }
    u.teams.push_back(t);
  }
  auto password = read_password();
  if (password.size() < 8) {
    std::cerr << "exceed: the password must have at least 8 characters\n";
    return exit_usage;
  }
  u.password_hash = app::hash_password(password, config.auth.password_iterations);
  return with_store(config, [&u](app::Db& db) -> asio::awaitable<int> {
    store::AccountStore accounts(db.store());
    auto id = co_await app::add_user(accounts, u, app::now_ms());
    if (!id) {
      std::cerr << "exceed: " << id.failure().message << "\n";
      co_return 1;
    }
    std::cout << "added " << u.role << " " << u.username << " (" << *id << ")\n";
    co_return 0;
  });
}

// exceed assess-eval FILE...: agreement with the corpus' labels, printed;
// exit 1 below the --min-* bars.
int assess_eval(std::vector<std::string> const& args, po::variables_map const& vm) {
  if (args.size() < 2) {
    usage();
    return exit_usage;
  }
  std::string rules_file = vm.count("rules") ? vm["rules"].as<std::string>() : load(vm).assessment.rules_file;
  if (!std::ifstream(rules_file)) {
    std::cerr << "exceed: cannot read the assessment rules " << rules_file << " (--rules FILE)\n";
    return exit_usage;
  }
  std::optional<app::LexiconChoice> lexicon;
  if (vm.count("lexicon"))
    lexicon = app::LexiconChoice{vm["lexicon"].as<std::string>(),
                                 vm.count("lexicon-format") ? vm["lexicon-format"].as<std::string>() : "vader"};
  auto rules = app::read_assessment_rules(rules_file, lexicon);
  std::vector<app::LabelledChat> chats;
  for (std::size_t i = 1; i < args.size(); ++i) {
    std::ifstream in(args[i], std::ios::binary);
    if (!in) {
      std::cerr << "exceed: cannot read " << args[i] << "\n";
      return exit_usage;
    }
    std::stringstream text;
    text << in.rdbuf();
    try {
      auto more = app::parse_corpus(text.str(), args[i]);
      for (auto& c : more) chats.push_back(std::move(c));
    } catch (std::runtime_error const& e) {
      std::cerr << "exceed: " << e.what() << "\n";
      return exit_usage;
    }
  }
  auto agreement = app::evaluate(chats, rules);
  app::print(std::cout, agreement, vm.count("verbose") > 0);
  int rc = 0;
  auto bar = [&](char const* name, char const* flag, int agreed, int total) {
    if (!vm.count(flag)) return;
    double min = vm[flag].as<double>();
    double pct = 100.0 * agreement.share(agreed, total);
    if (pct + 1e-9 < min) {
      std::cerr << "exceed: " << name << " agreement " << pct << "% is below the minimum " << min << "%\n";
      rc = 1;
    }
  };
  bar("explicit", "min-explicit", agreement.explicit_agreed, agreement.explicit_total);
  bar("inferred", "min-inferred", agreement.inferred_agreed, agreement.inferred_total);
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description opts("options");
  opts.add_options()("help,h", "")("config", po::value<std::string>())("listen", po::value<std::string>())(
      "redis", po::value<std::string>())("log-level", po::value<std::string>())("tls-cert", po::value<std::string>())(
      "tls-key", po::value<std::string>())("role", po::value<std::string>())(
      "name", po::value<std::string>())("teams", po::value<std::string>())("capacity", po::value<int>())(
      "rules", po::value<std::string>())("lexicon", po::value<std::string>())("lexicon-format", po::value<std::string>())(
      "min-explicit", po::value<double>())("min-inferred", po::value<double>())("verbose,v", "")(
      "args", po::value<std::vector<std::string>>());
  po::positional_options_description pos;
  pos.add("args", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(opts).positional(pos).run(), vm);
    po::notify(vm);
  } catch (po::error const& e) {
    std::cerr << "exceed: " << e.what() << "\n";
    usage();
    return exit_usage;
  }
  auto args = vm.count("args") ? vm["args"].as<std::vector<std::string>>() : std::vector<std::string>{};
  if (vm.count("help") || args.empty()) {
    usage();
    return args.empty() && !vm.count("help") ? exit_usage : 0;
  }
  try {
    if (args[0] == "serve" && args.size() == 1) return serve(vm);
    if (args[0] == "user") return user_command(args, vm);
    if (args[0] == "assess-eval") return assess_eval(args, vm);
    if (args[0] == "version") {
      std::cout << "exceed " << version << " (" << allocator() << ")\n";
      return 0;
    }
  } catch (app::ConfigError const& e) {
    std::cerr << "exceed: bad configuration: " << e.what() << "\n";
    return exit_usage;
  }
  usage();
  return exit_usage;
}
