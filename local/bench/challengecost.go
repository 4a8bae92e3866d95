package bench

// The step challenges' costs (section 4): a sync by a participant of a few
// and of the most running events, and the board of the largest event, all
// through the API handlers like the other routes.

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/werun-sam/werun-sam/local/stack"
	"github.com/werun-sam/werun-sam/shared/api"
	"github.com/werun-sam/werun-sam/shared/challenge"
	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/social"
	"github.com/werun-sam/werun-sam/shared/steps"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/store/eventstore"
	"github.com/werun-sam/werun-sam/shared/usecases"
	"github.com/werun-sam/werun-sam/shared/wechat/wechattest"
)

const (
	benchEventsFew  = 3
	benchEventsMany = challenge.MaxOpenEvents
	benchEventSize  = challenge.MaxParticipants
)

// challengeScenarios seeds benchEventsMany running events (a user in
// benchEventsFew of them, another in all, and benchEventSize participants
// in the first, written straight through the store) and returns the
// scenarios that measure them.
func challengeScenarios(ctx context.Context, h handlers, setup *store.DynamoStore) ([]scenario, error) {
	svc := h.w.svc
	key := stack.RandomKey()[:8]
	org, few, many := "bench-org-"+key, "bench-few-"+key, "bench-many-"+key
	for _, u := range []string{org, few, many} {
		if _, err := h.login(ctx, u); err != nil {
			return nil, err
		}
		if _, err := svc.Social.SetProfile(ctx, u, social.Profile{Nickname: u[:10]}); err != nil {
			return nil, err
		}
	}
	now := time.Now()
	var first eventstore.Event
	for i := range benchEventsMany {
		in := challenge.NewEvent{Name: fmt.Sprintf("bench %d", i),
			StartDate: steps.DateOf(now.AddDate(0, 0, -10)), EndDate: steps.DateOf(now.AddDate(0, 0, 30))}
		if i == 0 { // the largest event has the most teams
			for k := range challenge.MaxTeams {
				in.Teams = append(in.Teams, fmt.Sprintf("team %d", k+1))
			}
		}
		e, err := svc.Challenge.Create(ctx, org, in)
		if err != nil {
			return nil, err
		}
		join := challenge.JoinRequest{JoinCode: e.JoinCode, Consent: true}
		if len(e.Teams) > 0 {
			join.TeamID = e.Teams[0].ID
		}
		if i < benchEventsFew {
			if _, err := svc.Challenge.Join(ctx, few, join); err != nil {
				return nil, err
			}
		}
		if _, err := svc.Challenge.Join(ctx, many, join); err != nil {
			return nil, err
		}
		if i == 0 {
			ev := eventstore.New(setup.Table())
			if first, _, err = ev.Event(ctx, e.EventID); err != nil {
				return nil, err
			}
			if err := seedParticipants(ctx, ev, first, benchEventSize-2); err != nil {
				return nil, err
			}
		}
	}
	tokens := map[string]string{}
	lists := map[string][]wechattest.StepInfo{}
	for _, u := range []string{org, few, many} {
		t, err := h.login(ctx, u) // the token carries the memberId
		if err != nil {
			return nil, err
		}
		tokens[u], lists[u] = t, wechattest.Days(31, now)
		if _, err := h.sync(ctx, u, t, lists[u]); err != nil {
			return nil, err
		}
		if err := settleMarks(ctx, setup, u); err != nil {
			return nil, err
		}
	}
	ch := api.Challenge(svc)
	syncToday := func(u string) func() (int, error) {
		return func() (int, error) {
			lists[u][len(lists[u])-1].Step += 400
			return h.sync(ctx, u, tokens[u], lists[u])
		}
	}
	board := func() (int, error) {
		var b challenge.Board
		err := h.do(ctx, ch, "GET /v1/events/{eventId}/board", tokens[org], nil, nil, map[string]string{"eventId": first.ID}, &b)
		if err == nil && b.Participants != benchEventSize {
			err = fmt.Errorf("%d participants, want %d", b.Participants, benchEventSize)
		}
		return 0, err
	}
	return []scenario{
		{fmt.Sprintf("sync of a participant of %d running events, only today changed", benchEventsFew), "POST /v1/werun/decrypt", syncToday(few)},
		{fmt.Sprintf("sync of a participant of %d running events, only today changed", benchEventsMany), "POST /v1/werun/decrypt", syncToday(many)},
		// The container's first view of the event reads its participants
		// strongly consistent; the next, well within the cache's TTL of
		// the first, ranks the participants it kept.
		{fmt.Sprintf("event board, %d participants", benchEventSize), "GET /v1/events/{eventId}/board", board},
		{fmt.Sprintf("event board, %d participants, the container's next view", benchEventSize), "GET /v1/events/{eventId}/board", board},
		// The team board as another container's first view: this one's
		// has kept the participants.
		{fmt.Sprintf("event team board, %d participants in %d teams", benchEventSize, challenge.MaxTeams), "GET /v1/events/{eventId}/teams", func() (int, error) {
			var b challenge.Teams
			err := h.do(ctx, api.Challenge(usecases.New(h.w.cfg)), "GET /v1/events/{eventId}/teams", tokens[org], nil, nil, map[string]string{"eventId": first.ID}, &b)
			if err == nil && len(b.Teams) != challenge.MaxTeams {
				err = fmt.Errorf("%d teams, want %d", len(b.Teams), challenge.MaxTeams)
			}
			return 0, err
		}},
	}, nil
}

// seedParticipants adds n participants with totals to e, as joins would
// leave them, 16 at a time.
func seedParticipants(ctx context.Context, ev *eventstore.Store, e eventstore.Event, n int) error {
	var g errgroup.Group
	g.SetLimit(16)
	for i := range n {
		g.Go(func() error {
			p := eventstore.Participant{EventID: e.ID, MemberID: crypto.NewID(), OpenID: fmt.Sprintf("bench-p-%s-%d", e.ID[:6], i),
				Total: int64(i*7919) % 400000}
			if len(e.Teams) > 0 {
				p.TeamID = e.Teams[i%len(e.Teams)].ID
			}
			m := store.EventMark{EventID: e.ID, MemberID: p.MemberID, Start: e.Start, End: e.End, Hide: e.End, ExpiresAt: e.ExpiresAt}
			_, err := ev.AddParticipant(ctx, e, p, m)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	_, err := ev.CountParticipants(ctx, e.ID, n, benchEventSize)
	return err
}

// challengeTargets writes the step challenges' rows of the report's
// targets: a participant's sync as cheap as any other but one write unit
// per running event, the largest event's board and team board each in 2
// round trips and 250 read units, and what the board's next view costs
// with the participants kept.
func (r *report) challengeTargets(p func(string, ...any)) {
	outside := r.cost("sync (encryptedData), only today changed")
	few := r.cost(fmt.Sprintf("sync of a participant of %d running", benchEventsFew))
	many := r.cost(fmt.Sprintf("sync of a participant of %d running", benchEventsMany))
	board := r.cost(fmt.Sprintf("event board, %d participants", benchEventSize))
	teams := r.cost(fmt.Sprintf("event team board, %d participants", benchEventSize))
	next := r.cost(fmt.Sprintf("event board, %d participants, the container's next view", benchEventSize))
	p("| sync of a participant of %d running events: no more sequential round trips than a sync outside events (%d) | %d | %s |",
		benchEventsFew, outside.Waves, few.Waves, holds(few.Waves > 0 && few.Waves <= outside.Waves))
	p("| sync of a participant of %d running events: at most 1 more write unit per running event (≤ %g) | %g WCU | %s |",
		benchEventsFew, outside.BilledWCU()+benchEventsFew, few.BilledWCU(), holds(few.BilledWCU() <= outside.BilledWCU()+benchEventsFew))
	p("| sync of a participant of %d running events (no target: the cost at the limit) | %d round trips, %g WCU | |",
		benchEventsMany, many.Waves, many.BilledWCU())
	p("| event board, %d participants: sequential DynamoDB round trips through the API, authentication included, ≤ 2 | %d | %s |",
		benchEventSize, board.Waves, holds(board.Waves > 0 && board.Waves <= 2))
	p("| event board, %d participants: ≤ 250 read units | %g RCU | %s |", benchEventSize, board.ReportedRCU, holds(board.ReportedRCU > 0 && board.ReportedRCU <= 250))
	p("| event board, %d participants, the container's next view within %g s (the participants kept): ≤ 2 round trips, and the read units it saves | %d round trips, %g RCU | %s |",
		benchEventSize, challenge.DefaultCacheTTL.Seconds(), next.Waves, next.ReportedRCU, holds(next.Waves > 0 && next.Waves <= 2))
	p("| event team board, %d participants in %d teams: sequential DynamoDB round trips, ≤ 2 | %d | %s |",
		benchEventSize, challenge.MaxTeams, teams.Waves, holds(teams.Waves > 0 && teams.Waves <= 2))
	p("| event team board, %d participants in %d teams: ≤ 250 read units | %g RCU | %s |",
		benchEventSize, challenge.MaxTeams, teams.ReportedRCU, holds(teams.ReportedRCU > 0 && teams.ReportedRCU <= 250))
}

// settleMarks leaves u's marks as the first sync a settling time after the
// joins does (the sync just made credited exactly): settled, so the
// measured syncs credit beside their writes, as every sync but the first
// after a join does.
func settleMarks(ctx context.Context, setup *store.DynamoStore, u string) error {
	user, err := setup.LoadUser(ctx, u, steps.FirstDate(time.Now()))
	if err != nil {
		return err
	}
	ev := eventstore.New(setup.Table())
	for _, m := range user.Events {
		if err := ev.SettleMark(ctx, u, m, m.Version); err != nil {
			return err
		}
	}
	return nil
}
