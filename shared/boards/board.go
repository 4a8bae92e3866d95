package boards

import (
	"context"
	"encoding/json"
	"maps"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/werun-sam/werun-sam/shared/day"
	"github.com/werun-sam/werun-sam/shared/steps"
)

// Leaderboard shape. Today's DAY item of a user carries its board shard
// (day.BoardShard), which puts it in the sparse ActiveIndex.
const (
	BoardTop    = 100
	BucketWidth = 500 // steps per histogram bucket
)

// Board is one day's leaderboard snapshot: the top of the day and the
// distribution rank and percentile come from. It never leaves the server
// with other users' openids in it.
type Board struct {
	Date      string   `json:"date"`
	Users     int      `json:"users"`
	Top       []Ranked `json:"top"`
	Histogram []int    `json:"histogram"` // Histogram[i] users with steps in [i*BucketWidth, (i+1)*BucketWidth)
	// Excluded are the users the operator keeps off the boards: not
	// counted, and not ranked when they ask.
	Excluded []string  `json:"excluded,omitempty"`
	BuiltAt  time.Time `json:"builtAt"`
}

// Ranked is one entry of a board's top.
type Ranked struct {
	OpenID string `json:"openid"`
	Steps  int64  `json:"steps"`
}

func bucket(n int64) int { return int(n / BucketWidth) }

func (b *Board) add(openid string, n int64) {
	b.Users++
	i := bucket(n)
	for len(b.Histogram) <= i {
		b.Histogram = append(b.Histogram, 0)
	}
	b.Histogram[i]++
	if len(b.Top) < BoardTop || n > b.Top[len(b.Top)-1].Steps {
		b.Top = append(b.Top, Ranked{openid, n})
		sort.SliceStable(b.Top, func(i, j int) bool {
			if b.Top[i].Steps != b.Top[j].Steps {
				return b.Top[i].Steps > b.Top[j].Steps
			}
			return b.Top[i].OpenID < b.Top[j].OpenID
		})
		if len(b.Top) > BoardTop {
			b.Top = b.Top[:BoardTop]
		}
	}
}

// Rank places a count on the board: 1 + the users with more steps, exact
// within the top, counted by bucket below it; and the percentile, the share
// of the board's users this count is at or above (100 for the best, and for
// a board that does not yet count the caller).
func (b *Board) Rank(n int64) (rank int, percentile float64) {
	above := 0
	if len(b.Top) > 0 && n >= b.Top[len(b.Top)-1].Steps {
		for _, r := range b.Top {
			if r.Steps > n {
				above++
			}
		}
	} else {
		for i := bucket(n) + 1; i < len(b.Histogram); i++ {
			above += b.Histogram[i]
		}
	}
	if b.Users == 0 {
		return 1, 100
	}
	return above + 1, math.Max(0, float64(b.Users-above)*100/float64(b.Users))
}

// boardBuild is a board under construction, kept between scheduled runs
// when one run's time runs out: the shard and page it stopped at.
type boardBuild struct {
	Board  Board  `json:"board"`
	Shard  int    `json:"shard"`
	Cursor string `json:"cursor"`
	Done   bool   `json:"done"`
}

// stopMargin is the time a refresher keeps in hand to save its progress.
const stopMargin = 2 * time.Second

// buildBoard reads the day's shards of the ActiveIndex into a board and
// publishes it if it differs from the one published; it resumes a build a
// previous run left unfinished. It reports whether the board is complete,
// and the users on it.
func (s *Service) buildBoard(ctx context.Context, date string) (complete, changed bool, users int, err error) {
	nextName, pubName := "BOARD#"+date+"#NEXT", "BOARD#"+date
	b := boardBuild{Board: Board{Date: date}}
	resumed := false
	if raw, found, err := s.store.GetSnapshot(ctx, s.appID, nextName); err != nil {
		return false, false, 0, err
	} else if found {
		var prev boardBuild
		if json.Unmarshal(raw, &prev) == nil && !prev.Done {
			b, resumed = prev, true
		}
	}
	skip, err := s.excludedOpenIDs(ctx)
	if err != nil {
		return false, false, 0, err
	}
	deadline, bounded := ctx.Deadline()
	for ; b.Shard < day.Shards; b.Shard, b.Cursor = b.Shard+1, "" {
		shard := day.Shard(date, b.Shard)
		for {
			if bounded && time.Until(deadline) < stopMargin {
				return false, false, 0, s.saveBuild(ctx, nextName, date, b)
			}
			entries, next, err := s.store.BoardPage(ctx, shard, b.Cursor)
			if err != nil {
				return false, false, 0, err
			}
			for _, e := range entries {
				if !skip[e.OpenID] {
					b.Board.add(e.OpenID, e.Steps)
				}
			}
			if b.Cursor = next; next == "" {
				break
			}
		}
	}
	if resumed {
		if err := s.saveBuild(ctx, nextName, date, boardBuild{Done: true}); err != nil {
			return false, false, 0, err
		}
	}
	b.Board.Excluded = slices.Sorted(maps.Keys(skip))
	if pub, found, err := s.Published(ctx, date); err != nil {
		return false, false, 0, err
	} else if found && sameBoard(pub, b.Board) {
		return true, false, b.Board.Users, nil
	}
	b.Board.BuiltAt = s.now().UTC()
	raw, _ := json.Marshal(b.Board)
	return true, true, b.Board.Users, s.store.PutSnapshot(ctx, s.appID, pubName, raw, boardExpiry(date))
}

func (s *Service) saveBuild(ctx context.Context, name, date string, b boardBuild) error {
	raw, _ := json.Marshal(b)
	return s.store.PutSnapshot(ctx, s.appID, name, raw, boardExpiry(date))
}

// Published reads the published board of a date.
func (s *Service) Published(ctx context.Context, date string) (Board, bool, error) {
	raw, found, err := s.store.GetSnapshot(ctx, s.appID, "BOARD#"+date)
	if err != nil || !found {
		return Board{}, false, err
	}
	var b Board
	if err := json.Unmarshal(raw, &b); err != nil {
		return Board{}, false, nil // unreadable: the next run replaces it
	}
	return b, true, nil
}

func sameBoard(a, b Board) bool {
	a.BuiltAt, b.BuiltAt = time.Time{}, time.Time{}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// boardExpiry keeps a day's board for as long as its days are in the window.
func boardExpiry(date string) time.Time {
	d, _ := steps.ParseDate(date)
	return d.AddDate(0, 0, steps.WindowDays+1)
}
