// Package upstream holds upstream groups: their peers, nginx's load-balancing
// methods (smooth weighted round robin, least_conn, ip_hash, hash, hash
// consistent, random, random two), passive health accounting, the per-request
// retry decision of proxy_next_upstream, and keep-alive pools of idle
// upstream connections.
//
// # Shape
//
// A [Group] is built once per configuration generation from plain [Options]
// (the config package's types are mapped onto them by the server package).
// Each resolved address of a server directive becomes one [Peer]; a host name
// with several addresses gives several peers that share the parameters and
// the ketama server string.
//
// One proxied request uses one [Attempt]: [Attempt.Reset] binds it to a group
// and fixes the request's hash key, client address, try limit and retry mask;
// [Group.Pick] chooses the next peer; [Attempt.Fail] applies nginx's
// proxy_next_upstream procedure to a failure and says whether to retry;
// [Attempt.Done] releases the peer after a completed response.
//
// The architecture sketches the seam as Balancer.Pick(key, skip). nginx's
// hash-based methods keep per-request state across retries (ip_hash's running
// hash and try count, the generic hash's rehash counter, the ketama point
// index, the switch to the backup set), which a (key, skip) signature cannot
// carry without losing exactness. So the per-request state lives in the
// [Attempt], which is also the "skip" predicate: it holds the tried bitset and
// is consulted together with down, max_fails/fail_timeout and max_conns.
// Balancers never look at anything else. Picking allocates nothing.
//
// # Reload
//
// A reload builds new groups beside the old ones. [Group.CarryFrom] copies
// passive health state of the peers that remain (by group name and peer
// address) and can be called while building; [Group.AdoptIdle] moves idle
// keep-alive connections once the new generation is committed. [CarryOver]
// does both for whole generations.
//
// # Time
//
// Failure accounting uses whole seconds, as nginx does (ngx_time()), read from
// the injected clock in [Env]. Tests drive the clock by hand.
//
// # Concurrency
//
// A Group's peer state is guarded by one mutex per group; a [Pool] has its
// own. An [Attempt] belongs to one request and is not safe for concurrent use.
package upstream
