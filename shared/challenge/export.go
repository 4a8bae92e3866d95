package challenge

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/werun-sam/werun-sam/shared/fault"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/store/eventstore"
)

// The export's formats, as ?format= names them; CSV is the default.
const (
	CSV  = "csv"
	XLSX = "xlsx"
)

// The export's media types.
const (
	CSVType  = "text/csv; charset=utf-8"
	XLSXType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)

// ExportReaders bounds the Queries of participants' days in flight: enough
// to read 5,000 participants in a few seconds, few enough that the SDK's
// pooled connections are reused rather than opened per Query.
const ExportReaders = 16

// File is an export: its file name, media type and content. Text says the
// content is UTF-8 text, sent as is; anything else is binary.
type File struct {
	Name        string
	ContentType string
	Body        []byte
	Text        bool
}

// exportRow is one participant's line of the export.
type exportRow struct {
	memberID, nickname, team string
	days                     []int64 // credited steps, one per counted date
	total                    int64
	goalDays                 int
	completed, excluded      bool
}

// Export is the organizer's table of the event: one row per participant,
// in board order with excluded participants last, holding each counted
// day's credited steps. The credits are recomputed from the stored days
// with the rules that keep the board's totals, so the file agrees with
// itself even while syncs run. Participants get NotOrganizer; anyone else
// EventNotFound.
func (s *Service) Export(ctx context.Context, openid, eventID, format string) (_ File, err error) {
	defer fault.Classify(&err)
	if format == "" {
		format = CSV
	}
	if format != CSV && format != XLSX {
		return File{}, fault.InvalidExportFormat
	}
	a, err := s.open(ctx, openid, eventID)
	if err != nil {
		return File{}, err
	}
	if err := a.organizerOnly(); err != nil {
		return File{}, err
	}
	dates, rows, err := s.exportRows(ctx, a.event)
	if err != nil {
		return File{}, err
	}
	name := "event-" + a.event.ID + "." + format
	if format == XLSX {
		body, err := s.xlsxOf(dates, rows)
		return File{Name: name, ContentType: XLSXType, Body: body}, err
	}
	return File{Name: name, ContentType: CSVType, Body: csvOf(dates, rows), Text: true}, nil
}

// exportRows reads every participant, the exclusions, the participants'
// profiles and each participant's counted days (ExportReaders Queries at a
// time), and returns the counted dates and the rows in export order.
func (s *Service) exportRows(ctx context.Context, e eventstore.Event) ([]string, []exportRow, error) {
	var (
		ps       []eventstore.Participant
		excluded map[string]bool
	)
	err := parallel(ctx, func(ctx context.Context) (err error) {
		ps, _, err = s.store.Participants(ctx, e.ID, "", 0)
		return err
	}, func(ctx context.Context) (err error) {
		excluded, err = s.store.Excluded(ctx)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	span := spanOf(e)
	var dates []string
	last, counted := span.counted(s.today())
	if counted {
		for d := span.start; d <= last; d++ {
			dates = append(dates, d.String())
		}
	}
	teams := make(map[string]string, len(e.Teams))
	for _, t := range e.Teams {
		teams[t.ID] = t.Name
	}
	r := s.rulesOf(e.DailyGoal, e.DailyCap)
	rows := make([]exportRow, len(ps))
	var names map[string]store.Profile
	reads := []func(context.Context) error{func(ctx context.Context) (err error) {
		names, err = s.profiles(ctx, ps)
		return err
	}}
	if counted {
		reads = append(reads, func(ctx context.Context) error {
			g, ctx := errgroup.WithContext(ctx)
			g.SetLimit(ExportReaders)
			for i, p := range ps {
				g.Go(func() error {
					days, err := s.store.Days(ctx, p.OpenID, dates[0], dates[len(dates)-1])
					rows[i].days, rows[i].total, rows[i].goalDays = r.creditedDays(days, span.start, last)
					return err
				})
			}
			return g.Wait()
		})
	}
	if err := parallel(ctx, reads...); err != nil {
		return nil, nil, err
	}
	for i, p := range ps {
		row := &rows[i]
		row.memberID, row.nickname, row.team = p.MemberID, names[p.MemberID].Nickname, teams[p.TeamID]
		row.completed, row.excluded = row.goalDays >= e.GoalDays, excluded[p.MemberID]
		if row.days == nil {
			row.days = make([]int64, len(dates))
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		switch {
		case a.excluded != b.excluded:
			return !a.excluded
		case a.total != b.total:
			return a.total > b.total
		}
		return a.memberID < b.memberID
	})
	return dates, rows, nil
}

// guard keeps a spreadsheet from reading a displayed name as a formula
// (OWASP "CSV Injection"): a cell beginning with = + - @, a tab or a
// carriage return gets a leading '. Ids never need it.
func guard(s string) string {
	if s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0 {
		return "'" + s
	}
	return s
}

func header(dates []string) []string {
	h := append([]string{"memberId", "nickname", "team"}, dates...)
	return append(h, "total", "goalDays", "completed")
}

// csvOf is RFC 4180 with CRLF line endings, after a UTF-8 byte-order mark
// so that Excel reads the Chinese text as UTF-8.
func csvOf(dates []string, rows []exportRow) []byte {
	var b bytes.Buffer
	b.Grow(len(rows) * (64 + 7*len(dates)))
	b.WriteString("\uFEFF")
	w := csv.NewWriter(&b)
	w.UseCRLF = true
	_ = w.Write(header(dates)) // a bytes.Buffer never fails
	line := make([]string, 0, len(dates)+6)
	for _, r := range rows {
		line = append(line[:0], r.memberID, guard(r.nickname), guard(r.team))
		for _, n := range r.days {
			line = append(line, strconv.FormatInt(n, 10))
		}
		line = append(line, strconv.FormatInt(r.total, 10), strconv.Itoa(r.goalDays), strconv.FormatBool(r.completed))
		_ = w.Write(line)
	}
	w.Flush()
	return b.Bytes()
}

// xlsxOf is the same table as one sheet, written by the function's sheet
// writer: the same text cells (the guard too, so the sheet saved again as
// CSV stays safe), numbers as numeric cells and completed as a boolean.
func (s *Service) xlsxOf(dates []string, rows []exportRow) ([]byte, error) {
	if s.cfg.Sheet == nil {
		return nil, errors.New("challenge: no sheet writer in this function")
	}
	return s.cfg.Sheet(func(yield func([]any) bool) {
		h := header(dates)
		cells := make([]any, len(h))
		for i, v := range h {
			cells[i] = v
		}
		if !yield(cells) {
			return
		}
		for _, r := range rows {
			cells = append(cells[:0], r.memberID, guard(r.nickname), guard(r.team))
			for _, n := range r.days {
				cells = append(cells, n)
			}
			if !yield(append(cells, r.total, r.goalDays, r.completed)) {
				return
			}
		}
	})
}

// Mine is what the user's own export (GET /v1/me/export) holds of step
// challenges: the events they take part in, with their own credited days,
// and the events they organize, with the settings only, never others' rows.
type Mine struct {
	Participating []Participation `json:"participating"`
	Organizing    []Event         `json:"organizing"`
}

// Participation is one event the user takes part in: their own credited
// steps on each counted day, and their standing.
type Participation struct {
	Event     Event         `json:"event"`
	Days      []CreditedDay `json:"days"`
	Total     int64         `json:"total"`
	GoalDays  int           `json:"goalDays"`
	Completed bool          `json:"completed"`
}

// CreditedDay is one counted day's credited steps.
type CreditedDay struct {
	Date  string `json:"date"`
	Steps int64  `json:"steps"`
}

// ExportMine reads the user's events from their index (every page), the
// events themselves, and the user's days of each event they take part in,
// ExportReaders at a time. A user without a memberId has no events.
func (s *Service) ExportMine(ctx context.Context, openid, memberID string) (_ Mine, err error) {
	defer fault.Classify(&err)
	out := Mine{Participating: []Participation{}, Organizing: []Event{}}
	if memberID == "" {
		return out, nil
	}
	var refs []eventstore.EventRef
	for cursor := ""; ; {
		page, next, err := s.store.MemberEvents(ctx, memberID, cursor, ListPage)
		if err != nil {
			return Mine{}, err
		}
		refs = append(refs, page...)
		if next == "" {
			break
		}
		cursor = next
	}
	ids := make([]string, len(refs))
	for i, r := range refs {
		ids[i] = r.EventID
	}
	evs, err := s.store.Events(ctx, ids)
	if err != nil {
		return Mine{}, err
	}
	today := s.today()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(ExportReaders)
	var parts []*Participation
	for _, r := range refs {
		e, ok := evs[r.EventID]
		if !ok {
			continue // cancelled
		}
		me := Me{Organizer: e.Organizer == memberID, Participant: r.Participant, MemberID: memberID}
		if r.Participant {
			me.TeamID = teamPtr(r.TeamID)
		}
		if me.Organizer {
			out.Organizing = append(out.Organizing, s.view(e, me))
		}
		if !r.Participant {
			continue
		}
		p := &Participation{Event: s.view(e, me), Days: []CreditedDay{}}
		parts = append(parts, p)
		span := spanOf(e)
		last, counted := span.counted(today)
		if !counted {
			continue
		}
		g.Go(func() error {
			days, err := s.store.Days(gctx, openid, span.start.String(), last.String())
			if err != nil {
				return err
			}
			credits, total, goalDays := s.rulesOf(e.DailyGoal, e.DailyCap).creditedDays(days, span.start, last)
			for i, c := range credits {
				p.Days = append(p.Days, CreditedDay{Date: (span.start + day(i)).String(), Steps: c})
			}
			p.Total, p.GoalDays, p.Completed = total, goalDays, goalDays >= e.GoalDays
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return Mine{}, err
	}
	for _, p := range parts {
		out.Participating = append(out.Participating, *p)
	}
	return out, nil
}
