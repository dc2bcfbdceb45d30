#!/bin/sh
# Membership reload keeps and makes links. B dials A. (1) A member section
# dialing C is added to B's config before A's, and B reloads: B links to
# both, and an entry of C reaches A through B. (2) A moves (restarts on a
# new port): B's config gets A's new endpoint in place, B reloads and links
# to A again, and what A published meanwhile reaches B and C. (3) A and B
# dial each other; B's section for A loses its endpoint and gets it back,
# B reloading each time, while A's connection to B stays: B still knows
# that connection greeted, so A's next frames on it are no violation, and
# what A publishes reaches B at once.
. "$(dirname "$0")/lib.sh"

init_abc
run_node a
run_node c
member b a dial
run_node b
wait_until 30 prints 1 peers_up b

# (1) A new member, written before the one B already dials.
member_first b c dial
reload b
expect_contains "$T/b.log" "membership reloaded: 2 members"
wait_until 30 prints 2 peers_up b
[ "$(peer_stat b a connected) $(peer_stat b c connected)" = "True True" ] ||
    fail "b's links after adding c: $(cat "$T/b.peers")"
orgs c 3 DK | sd c publish - >/dev/null
wait_until 30 sd a get c-0003

# (2) A moves to a new port; B is told in place.
stop_node a
wait_until 30 prints 1 peers_up b
run_node a
set_endpoint b a "$(cat "$T/a/listen.endpoint")"
reload b
wait_until 30 prints 2 peers_up b
orgs a 3 AT | sd a publish - >/dev/null
wait_until 30 sd c get a-0003
wait_until 60 same_digest a b c
[ "$(status_of c 'd["entries"]')" -eq 6 ] || fail "c holds $(status_of c 'd["entries"]') entries, not 6"

# (3) Mutual dialing; B's section for A changes twice under A's link.
set_endpoint a b "$(cat "$T/b/listen.endpoint")"
reload a
wait_until 30 prints True peer_stat a b connected
sync_wait a
set_endpoint b a
reload b
set_endpoint b a "$(cat "$T/a/listen.endpoint")"
reload b
orgs a2 3 AT | sd a publish - >/dev/null
wait_until 30 sd b get a2-0003
sync_wait a
sync_wait b
expect_not_contains "$T/b.log" "before HELLO"
expect_not_contains "$T/b.log" "broke the protocol"
[ "$(peer_stat b a errors) $(peer_stat a b errors)" = "0 0" ] ||
    fail "protocol errors after b's reloads: $(cat "$T/b.peers") $(cat "$T/a.peers")"

for n in a b c; do stop_node $n; done
echo "t075 ok"
