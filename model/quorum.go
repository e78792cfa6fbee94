package model

import (
	"fmt"
	"slices"
)

// QuorumTLS is how a region's ZooKeeper servers talk to each other (the
// quorum and election ports, 2888 and 3888): ZooKeeper's sslQuorum and
// portUnification. A server that dials TLS cannot reach one that accepts
// plaintext only, and the reverse, so a running ensemble moves from
// plaintext to TLS in ZooKeeper's three rolling restarts, one `up` each,
// in the order of QuorumTLSMoves; a new region starts at QuorumTLSOnly.
type QuorumTLS string

// The quorum's stages.
const (
	// QuorumPlaintext is a region deployed before quorum TLS (no output
	// says otherwise); it is not declarable.
	QuorumPlaintext QuorumTLS = "plaintext"
	// QuorumAccept accepts TLS and plaintext and dials plaintext.
	QuorumAccept QuorumTLS = "accept"
	// QuorumDial accepts both and dials TLS.
	QuorumDial QuorumTLS = "dial"
	// QuorumTLSOnly accepts and dials TLS only: the design.
	QuorumTLSOnly QuorumTLS = "tls"
)

// QuorumTLSMoves are the stages in the order a running region passes them.
var QuorumTLSMoves = []QuorumTLS{QuorumPlaintext, QuorumAccept, QuorumDial, QuorumTLSOnly}

// QuorumTLSStages are the declarable stages.
var QuorumTLSStages = QuorumTLSMoves[1:]

// Valid reports whether q is a declarable stage.
func (q QuorumTLS) Valid() bool { return slices.Contains(QuorumTLSStages, q) }

// DialsTLS reports whether the servers dial each other with TLS.
func (q QuorumTLS) DialsTLS() bool { return q == QuorumDial || q == QuorumTLSOnly }

// AcceptsPlaintext reports whether the servers still accept plaintext
// (ZooKeeper's portUnification).
func (q QuorumTLS) AcceptsPlaintext() bool { return q == QuorumAccept || q == QuorumDial }

// ServesPlaintextClients reports whether ZooKeeper keeps the image's
// plaintext client port (2181) beside its TLS port. Only the last stage
// closes it, so that each earlier stage changes the quorum alone and going
// back a stage restores exactly the configuration that ran. No pod
// reaches 2181 at any stage: the NetworkPolicies admit ZooKeeper's TLS
// port only, and only a process inside a ZooKeeper pod (loopback) could
// use it. A new region starts at the last stage.
func (q QuorumTLS) ServesPlaintextClients() bool { return q != QuorumTLSOnly }

// QuorumTLSMove checks that one `up` may take a running ensemble from was
// to now: the same stage, or one stage either way. During the roll the
// restarted servers and the others each dial what the others accept
// (back from dial to accept, everyone still accepts both; back from tls
// to dial, everyone still dials TLS), so a bad step can be undone; two
// stages at once split the ensemble. key names the config key in the
// error.
func QuorumTLSMove(was, now QuorumTLS, key string) error {
	i, j := slices.Index(QuorumTLSMoves, was), slices.Index(QuorumTLSMoves, now)
	if i < 0 {
		return fmt.Errorf("the deployed ZooKeeper quorum reads %q, not a stage this program knows (%s)", was, OneOf(QuorumTLSMoves))
	}
	if j < 0 || !now.Valid() {
		return Invalid(key, now, QuorumTLSStages)
	}
	if j >= i-1 && j <= i+1 {
		return nil
	}
	next := QuorumTLSMoves[min(i+1, len(QuorumTLSMoves)-1)]
	if j < i {
		return fmt.Errorf("%s: %s would move the ZooKeeper quorum back from %s two stages at once, and a rolling restart would split it (a server dialing plaintext cannot reach one that accepts TLS only): declare %s: %s first", key, now, was, key, QuorumTLSMoves[i-1])
	}
	return fmt.Errorf("%s: %s would move the ZooKeeper quorum from %s in one rolling restart, which splits it (a server dialing TLS cannot reach one that accepts plaintext only, and the quorum is lost until the roll ends): declare %s: %s first, one `up` per stage in the order %s (docs/operations.md, \"Moving ZooKeeper's quorum to TLS\")",
		key, now, was, key, next, OneOf(QuorumTLSMoves))
}
