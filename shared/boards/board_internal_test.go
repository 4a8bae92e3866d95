package boards

import (
	"fmt"
	"testing"
)

// board150 holds 150 users with 0, 100, ..., 14900 steps: the top keeps the
// 100 highest (5000..14900), the histogram all of them, 5 per bucket.
func board150() *Board {
	b := &Board{}
	for i := 0; i < 150; i++ {
		b.add(fmt.Sprintf("u%03d", i), int64(i*100))
	}
	return b
}

func TestBoardAddKeepsTheTopSortedAndCountsEveryUser(t *testing.T) {
	b := board150()
	b.add("zz-tie", 14900)
	b.add("aa-tie", 14900)
	if b.Users != 152 || len(b.Top) != BoardTop {
		t.Fatalf("users %d, top %d; want 152, %d", b.Users, len(b.Top), BoardTop)
	}
	want := []Ranked{{"aa-tie", 14900}, {"u149", 14900}, {"zz-tie", 14900}, {"u148", 14800}}
	for i, w := range want {
		if b.Top[i] != w {
			t.Errorf("top[%d] = %+v, want %+v (ties by openid)", i, b.Top[i], w)
		}
	}
	if last := b.Top[BoardTop-1]; last.Steps != 5200 {
		t.Errorf("last of the top = %+v, want 5200 after two more at the head", last)
	}
	sum := 0
	for _, c := range b.Histogram {
		sum += c
	}
	if sum != b.Users || len(b.Histogram) != 30 || b.Histogram[29] != 7 {
		t.Errorf("histogram total %d, %d buckets, last %d; want %d, 30, 7", sum, len(b.Histogram), b.Histogram[29], b.Users)
	}
}

func TestBoardRank(t *testing.T) {
	tests := []struct {
		name  string
		board *Board
		steps int64
		rank  int
		pct   float64
	}{
		{"empty board: first of everyone", &Board{}, 1234, 1, 100},
		{"the best count", board150(), 14900, 1, 100},
		{"above everyone", board150(), 20000, 1, 100},
		{"exact inside the top", board150(), 9050, 60, 91 * 100.0 / 150},
		{"the last of the top", board150(), 5000, 100, 51 * 100.0 / 150},
		// Below the top only buckets are known: the users in higher buckets
		// are above (2500..14900: 125); the rest are at or below.
		{"estimated by bucket below the top", board150(), 2250, 126, 25 * 100.0 / 150},
		{"zero steps", board150(), 0, 146, 5 * 100.0 / 150},
		{"a board smaller than the top is exact", func() *Board {
			b := &Board{}
			for _, n := range []int64{100, 200, 300} {
				b.add(fmt.Sprint(n), n)
			}
			return b
		}(), 150, 3, 100.0 / 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rank, pct := tt.board.Rank(tt.steps)
			if rank != tt.rank || pct != tt.pct {
				t.Errorf("Rank(%d) = %d, %.4f; want %d, %.4f", tt.steps, rank, pct, tt.rank, tt.pct)
			}
		})
	}
}
