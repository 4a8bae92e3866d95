package boards

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/werun-sam/werun-sam/shared/store"
)

// Unboard takes the user out of every stored leaderboard snapshot, the
// published ones and those a scheduled run left half built.
func (s *Service) Unboard(ctx context.Context, openid string, days []store.Day) error {
	snaps, err := s.store.Snapshots(ctx, s.appID, "BOARD#")
	if err != nil {
		return err
	}
	onBoard := map[string]int64{}
	for _, d := range days {
		if d.Board != "" {
			onBoard[d.Date] = d.Steps
		}
	}
	for _, snap := range snaps {
		var b *Board
		var doc any
		if strings.HasSuffix(snap.Name, "#NEXT") {
			var build boardBuild
			if json.Unmarshal(snap.Data, &build) != nil {
				continue
			}
			b, doc = &build.Board, &build
		} else {
			var pub Board
			if json.Unmarshal(snap.Data, &pub) != nil {
				continue
			}
			b, doc = &pub, &pub
		}
		if !b.remove(openid, onBoard) {
			continue
		}
		raw, _ := json.Marshal(doc)
		if err := s.store.PutSnapshot(ctx, s.appID, snap.Name, raw, snap.ExpiresAt); err != nil {
			return err
		}
	}
	return nil
}

// remove takes openid off the board: out of the top and the exclusions, and
// its count (from the top, else the stored day of that date) out of the
// totals. It reports whether the board held the user.
func (b *Board) remove(openid string, onBoard map[string]int64) bool {
	n, counted := onBoard[b.Date]
	held := false
	if i := slices.IndexFunc(b.Top, func(r Ranked) bool { return r.OpenID == openid }); i >= 0 {
		n, counted = b.Top[i].Steps, true
		b.Top = slices.Delete(b.Top, i, i+1)
		held = true
	}
	if i := slices.Index(b.Excluded, openid); i >= 0 {
		b.Excluded = slices.Delete(b.Excluded, i, i+1)
		held, counted = true, false // an excluded user was never counted
	}
	if counted && b.Users > 0 {
		if i := bucket(n); i < len(b.Histogram) && b.Histogram[i] > 0 {
			b.Histogram[i]--
			b.Users--
			held = true
		}
	}
	return held
}
