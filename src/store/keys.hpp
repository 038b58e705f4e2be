// Every Redis key and channel Exceed uses, built in one place from the
// deployment's prefix (redis.prefix, "exceed:" by default). The Lua scripts
// build the keys they discover while they run (a conversation's agent, its
// team's queue) with the same spellings: ck/ak/qk and friends in
// lua/prelude.lua mirror conversation()/agent()/queue() here.
#pragma once

#include "store/slots.hpp"

#include <string>
#include <string_view>

namespace exceed::store {

class Keys {
 public:
  explicit Keys(std::string prefix) : p_(std::move(prefix)), split_(hash_tag(p_).size() != p_.size()) {
    if (split_)
      for (char c : p_)
        if (c != '{' && c != '}') talk_ += c;
  }
  std::string const& prefix() const noexcept { return p_; }

  // Conversations: the record (hash), its messages (stream, ids "0-<seq>"),
  // the client_msg_ids seen (hash), the agents who declined it (hash).
  std::string conversation(std::string_view id) const { return p_ + "conv:" + std::string(id); }
  // The conversation's talk side: the hash send.lua reads, its messages and
  // the client_msg_ids seen (":cmid"). The record's own keys on one
  // primary; with a prefix that has a hash tag (a Redis Cluster) they are
  // in one of `talk_buckets` slots, "exceed:{t<k>}:conv:<id>", so that
  // conversations spread over the primaries, and each bucket keeps the
  // response clock of its conversations beside their messages: the timers
  // ("exceed:{t<k>}:sla") and the met counts (split(); lua/prelude.lua,
  // docs/CLUSTER.md).
  static constexpr int talk_buckets = 256;
  bool split() const noexcept { return split_; }
  // A conversation's bucket: its id's last two hex digits (ids end in
  // random hex), else the sum of its bytes; as tb_ in lua/prelude.lua.
  static int bucket_of(std::string_view id) noexcept {
    auto hex = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
    if (id.size() >= 2) {
      int hi = hex(id[id.size() - 2]), lo = hex(id[id.size() - 1]);
      if (hi >= 0 && lo >= 0) return hi * 16 + lo;
    }
    unsigned sum = 0;
    for (char c : id) sum += static_cast<unsigned char>(c);
    return static_cast<int>(sum % talk_buckets);
  }
  // The keys of bucket k share its slot: "exceed:{t<k>}:".
  std::string bucket(int k) const { return talk_ + "{t" + std::to_string(k) + "}:"; }
  std::string talk(std::string_view id) const {
    return split_ ? bucket(bucket_of(id)) + "conv:" + std::string(id) : conversation(id);
  }
  std::string messages(std::string_view id) const { return talk(id) + ":msgs"; }
  // What the talk side's scripts declare as KEYS: a key of its slot that
  // never exists, as the prefix for routing's scripts (store::Db::run), so
  // that while the slot moves Redis answers ASK before the script runs
  // instead of running it on a half-moved conversation.
  std::string talk_route(std::string_view id) const { return talk(id) + ":route"; }
  std::string bucket_route(int k) const { return bucket(k) + "route"; }
  // A bucket's response-clock timers and met counts (split only).
  std::string bucket_sla_team(int k, std::string_view team) const { return bucket(k) + "sla:team:" + std::string(team); }
  std::string bucket_sla_agent(int k, std::string_view agent) const {
    return bucket(k) + "sla:agent:" + std::string(agent);
  }
  std::string copies() const { return p_ + "copies"; }  // conversations whose talk side is behind
  std::string conversations() const { return p_ + "convs"; }  // every conversation by creation time

  // People: staff accounts and their login names, visitors (customers).
  std::string user(std::string_view id) const { return p_ + "user:" + std::string(id); }
  std::string username(std::string_view name) const { return p_ + "username:" + std::string(name); }
  std::string users() const { return p_ + "users"; }
  std::string visitor(std::string_view id) const { return p_ + "visitor:" + std::string(id); }
  std::string visitor_conversations(std::string_view id) const { return visitor(id) + ":convs"; }
  std::string visitor_tickets(std::string_view id) const { return visitor(id) + ":tickets"; }
  std::string visitor_of_user(std::string_view user_id) const { return p_ + "visitor_by_user:" + std::string(user_id); }

  // Routing: agents (their routing record), their offers and chats, teams.
  std::string agent(std::string_view id) const { return p_ + "agent:" + std::string(id); }
  std::string agent_offers(std::string_view id) const { return agent(id) + ":offers"; }
  std::string agent_conversations(std::string_view id) const { return agent(id) + ":convs"; }
  std::string teams() const { return p_ + "teams"; }
  std::string team_agents(std::string_view team) const { return p_ + "team:" + std::string(team) + ":agents"; }
  std::string queue(std::string_view team) const { return p_ + "queue:" + std::string(team); }

  // Tickets and follow-ups.
  std::string ticket(std::string_view id) const { return p_ + "ticket:" + std::string(id); }
  std::string ticket_comments(std::string_view id) const { return ticket(id) + ":comments"; }  // stream
  std::string ticket_events(std::string_view id) const { return ticket(id) + ":events"; }      // the timeline
  std::string tickets() const { return p_ + "tickets"; }
  std::string tickets_updated() const { return p_ + "tickets:updated"; }
  std::string followup(std::string_view id) const { return p_ + "followup:" + std::string(id); }
  std::string followups_open() const { return p_ + "followups:open"; }  // by due time
  std::string followups_due() const { return p_ + "followups:due"; }    // armed timers, by due time
  std::string agent_followups(std::string_view agent_id) const { return agent(agent_id) + ":followups"; }
  // Follow-ups that fell due while their owner had no connection.
  std::string agent_due_pending(std::string_view agent_id) const { return agent(agent_id) + ":due_pending"; }
  std::string conversation_followups(std::string_view id) const { return conversation(id) + ":followups"; }
  std::string ticket_followups(std::string_view id) const { return ticket(id) + ":followups"; }

  // Assessments and their review list; the history of a conversation's or a
  // solved ticket's levels (stream); a ticket's assessment also reads its
  // comments and its changes (ticket_comments, ticket_events above).
  std::string conversation_assessments(std::string_view id) const { return conversation(id) + ":assessments"; }
  std::string ticket_assessments(std::string_view id) const { return ticket(id) + ":assessments"; }
  std::string assessed() const { return p_ + "assessed"; }
  std::string reviews() const { return p_ + "reviews"; }
  std::string reviews_done() const { return p_ + "reviews:done"; }

  // Figures: SLA counts, the live samples stream.
  std::string sla_team(std::string_view team) const { return p_ + "sla:team:" + std::string(team); }
  std::string sla_agent(std::string_view agent) const { return p_ + "sla:agent:" + std::string(agent); }
  std::string metric_samples() const { return p_ + "metrics:samples"; }

  // Webhooks: the subscriptions (set, and a hash each), the outbox (a
  // stream read by a consumer group), each subscription's delivery lanes
  // (a list per conversation, their lane names in a set, the head's attempt
  // count per lane) and log (stream), and the lanes due (zset, "<id>|<lane>").
  std::string webhooks() const { return p_ + "webhooks"; }
  std::string webhook(std::string_view id) const { return p_ + "webhook:" + std::string(id); }
  std::string webhook_lanes(std::string_view id) const { return webhook(id) + ":lanes"; }
  std::string webhook_lane(std::string_view id, std::string_view lane) const {
    return webhook(id) + ":lane:" + std::string(lane);
  }
  std::string webhook_log(std::string_view id) const { return webhook(id) + ":log"; }
  std::string webhook_outbox() const { return p_ + "webhooks:outbox"; }
  std::string webhooks_due() const { return p_ + "webhooks:due"; }

  // Attachments: the record (hash), and the attachments of a conversation
  // and of a ticket (zsets by upload time).
  std::string attachment(std::string_view id) const { return p_ + "attachment:" + std::string(id); }
  std::string conversation_attachments(std::string_view id) const { return conversation(id) + ":attachments"; }
  std::string ticket_attachments(std::string_view id) const { return ticket(id) + ":attachments"; }

  // E-mail: each mail (hash) and its attempt log (stream), the queue by due
  // time (zset), every mail by when it was last queued (zset, the
  // supervisors' list), and the Message-IDs sent for a ticket, to find it
  // from a reply (string -> ticket id). lua/mail_list.lua spells mail(),
  // mail_due() and mail_index() too.
  std::string mail(std::string_view id) const { return p_ + "mail:" + std::string(id); }
  std::string mail_log(std::string_view id) const { return mail(id) + ":log"; }
  std::string mail_due() const { return p_ + "mail:due"; }
  std::string mail_index() const { return p_ + "mail:index"; }
  std::string mail_message_id(std::string_view message_id) const { return p_ + "mail:msgid:" + std::string(message_id); }
  // An inbound mail seen (by its Message-ID's hash), a transcript mailed lately.
  std::string mail_inbound(std::string_view digest) const { return p_ + "mail:in:" + std::string(digest); }
  std::string mail_transcript(std::string_view conversation) const { return p_ + "mail:transcript:" + std::string(conversation); }

  // Visitors browsing the shop: each visitor's current visit (hash, kept
  // visitors.retention_s), the live ones by when they leave the list
  // (zset), the stream of changed visits every process reads on, and the
  // invitations counted per day ("<rule>:<event>" -> n).
  std::string visit(std::string_view visitor_id) const { return p_ + "visit:" + std::string(visitor_id); }
  std::string visits_live() const { return p_ + "visits:live"; }
  std::string visit_changes() const { return p_ + "visits:changes"; }
  std::string invitation_counts(std::string_view day) const { return p_ + "invitations:" + std::string(day); }

  // Saved replies: the record, the replies of a team and of an agent (sets),
  // and each scope's shortcuts (hash shortcut -> reply id).
  std::string reply(std::string_view id) const { return p_ + "reply:" + std::string(id); }
  std::string team_replies(std::string_view team) const { return p_ + "replies:team:" + std::string(team); }
  std::string agent_replies(std::string_view agent) const { return p_ + "replies:agent:" + std::string(agent); }
  std::string shortcuts(std::string_view scope_set) const { return std::string(scope_set) + ":shortcuts"; }

  // Processes and the bus between them.
  std::string processes() const { return p_ + "procs"; }
  std::string bus() const { return p_ + "bus"; }

  // Limits: counted events and login waits (app/throttle).
  std::string throttle(std::string_view kind, std::string_view who) const {
    return p_ + "throttle:" + std::string(kind) + ":" + std::string(who);
  }
  std::string login_failures(std::string_view subject) const { return p_ + "login:fails:" + std::string(subject); }
  std::string login_wait(std::string_view subject) const { return p_ + "login:wait:" + std::string(subject); }

 private:
  std::string p_;
  bool split_;
  std::string talk_;  // the prefix without its hash tag's braces, when split
};

}  // namespace exceed::store
