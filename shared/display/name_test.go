package display_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/werun-sam/werun-sam/shared/display"
)

func TestNameKeepsWhatIsShownAsItself(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "alice", "alice"},
		{"Chinese", "步行者小明", "步行者小明"},
		{"spaces trimmed", "  alice \t", "alice"},
		{"ideographic spaces trimmed", "\u3000小明\u3000", "小明"},
		{"a line separator at the end is white space, trimmed", "alice\u2028", "alice"},
		{"inner space kept", "Alice Chen", "Alice Chen"},
		{"decomposed accent composed (NFC)", "Jose\u0301", "José"},
		{"Hangul jamo composed (NFC)", "\u1100\u1161", "가"},
		{"32 characters", strings.Repeat("步", 32), strings.Repeat("步", 32)},
		{"32 characters after NFC, 64 before", strings.Repeat("e\u0301", 32), strings.Repeat("é", 32)},
		{"family ZWJ sequence", "👨\u200d👩\u200d👧\u200d👦", "👨\u200d👩\u200d👧\u200d👦"},
		{"heart with VS16", "❤\ufe0f", "❤\ufe0f"},
		{"smiley with VS15", "☺\ufe0e", "☺\ufe0e"},
		{"heart on fire", "❤\ufe0f\u200d🔥", "❤\ufe0f\u200d🔥"},
		{"rainbow flag", "🏳\ufe0f\u200d🌈", "🏳\ufe0f\u200d🌈"},
		{"kiss", "👩\u200d❤\ufe0f\u200d💋\u200d👨", "👩\u200d❤\ufe0f\u200d💋\u200d👨"},
		{"country flag", "🇨🇳", "🇨🇳"},
		{"subdivision flag (Scotland)", "🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F", "🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F"},
		{"keycaps", "#\ufe0f\u20e31\ufe0f\u20e3*\ufe0f\u20e3", "#\ufe0f\u20e31\ufe0f\u20e3*\ufe0f\u20e3"},
		{"skin tone", "👍🏽", "👍🏽"},
		{"skin tone in a ZWJ sequence", "👩🏽\u200d💻", "👩🏽\u200d💻"},
		{"people holding hands, two tones", "🧑🏿\u200d🤝\u200d🧑🏻", "🧑🏿\u200d🤝\u200d🧑🏻"},
		{"name and runner emoji", "小明🏃\u200d♂\ufe0f", "小明🏃\u200d♂\ufe0f"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := display.Name(tc.in, 32)
			if err != nil || got != tc.want {
				t.Errorf("Name(%+q) = %+q, %v; want %+q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestNameRefusesWhatHidesOrMisleads(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     error
		pos      int
		r        rune
	}{
		{"empty", "", display.ErrEmpty, 0, 0},
		{"only spaces", " \t\u3000 ", display.ErrEmpty, 0, 0},
		{"zero width space at the end", "alice\u200b", display.ErrInvisible, 6, 0x200B},
		{"zero width space inside a word", "sim\u200brisky", display.ErrInvisible, 4, 0x200B},
		{"zero width space alone (not white space)", "\u200b", display.ErrInvisible, 1, 0x200B},
		{"zero width non-joiner", "ab\u200c", display.ErrInvisible, 3, 0x200C},
		{"soft hyphen", "al\u00adice", display.ErrInvisible, 3, 0x00AD},
		{"BOM", "\ufeffalice", display.ErrInvisible, 1, 0xFEFF},
		{"word joiner", "a\u2060b", display.ErrInvisible, 2, 0x2060},
		{"Hangul filler name", "\u3164", display.ErrInvisible, 1, 0x3164},
		{"Hangul fillers before a name", "\u3164\u3164alice", display.ErrInvisible, 1, 0x3164},
		{"halfwidth Hangul filler", "\uffa0", display.ErrInvisible, 1, 0xFFA0},
		{"Hangul choseong filler", "\u115f", display.ErrInvisible, 1, 0x115F},
		{"braille blank", "\u2800", display.ErrInvisible, 1, 0x2800},
		{"braille blank inside", "a\u2800b", display.ErrInvisible, 2, 0x2800},
		{"line separator inside", "a\u2028b", display.ErrInvisible, 2, 0x2028},
		{"paragraph separator inside", "a\u2029b", display.ErrInvisible, 2, 0x2029},
		{"right-to-left override", "abc\u202edcba", display.ErrInvisible, 4, 0x202E},
		{"left-to-right embedding", "\u202aabc", display.ErrInvisible, 1, 0x202A},
		{"first strong isolate", "a\u2068b\u2069", display.ErrInvisible, 2, 0x2068},
		{"right-to-left mark", "abc\u200f", display.ErrInvisible, 4, 0x200F},
		{"left-to-right mark", "\u200eabc", display.ErrInvisible, 1, 0x200E},
		{"Arabic letter mark", "ab\u061c", display.ErrInvisible, 3, 0x061C},
		{"Mongolian vowel separator", "a\u180eb", display.ErrInvisible, 2, 0x180E},
		{"language tag", "\U000E0001en", display.ErrInvisible, 1, 0xE0001},
		{"ideographic variation selector", "葛\U000E0100", display.ErrInvisible, 2, 0xE0100},
		{"bell", "a\x07b", display.ErrControl, 2, 7},
		{"newline", "a\nb", display.ErrControl, 2, '\n'},
		{"NUL", "\x00a", display.ErrControl, 1, 0},
		{"C1 control", "a\u0085b", display.ErrControl, 2, 0x85},
		{"ZWJ between letters", "a\u200db", display.ErrInvisible, 2, 0x200D},
		{"ZWJ after an emoji, before a letter", "👍\u200da", display.ErrInvisible, 2, 0x200D},
		{"ZWJ at the end after an emoji", "👍\u200d", display.ErrInvisible, 2, 0x200D},
		{"two ZWJ between emoji", "👍\u200d\u200d👍", display.ErrInvisible, 2, 0x200D},
		{"ZWJ after a letter, before an emoji", "a\u200d👍", display.ErrInvisible, 2, 0x200D},
		{"leading VS16", "\ufe0fa", display.ErrInvisible, 1, 0xFE0F},
		{"VS16 after a letter", "a\ufe0f", display.ErrInvisible, 2, 0xFE0F},
		{"two VS16", "❤\ufe0f\ufe0f", display.ErrInvisible, 3, 0xFE0F},
		{"VS1", "a\ufe00", display.ErrInvisible, 2, 0xFE00},
		{"tag after a letter", "a\U000E0067\U000E007F", display.ErrInvisible, 2, 0xE0067},
		{"tags never cancelled", "🏴\U000E0067\U000E0062", display.ErrInvisible, 3, 0xE0062},
		{"cancel tag alone", "🏴\U000E007F", display.ErrInvisible, 2, 0xE007F},
		{"33 characters", strings.Repeat("步", 33), display.ErrTooLong, 0, 0},
		{"five families (35 code points)", strings.Repeat("👨\u200d👩\u200d👧\u200d👦", 5), display.ErrTooLong, 0, 0},
		{"invalid UTF-8", "a\xffb", display.ErrInvalidUTF8, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := display.Name(tc.in, 32)
			var e *display.Error
			if !errors.As(err, &e) || !errors.Is(err, tc.want) || e.Pos != tc.pos || e.Rune != tc.r {
				t.Fatalf("Name(%+q) = %+q, %#v; want %v at position %d (U+%04X)", tc.in, got, err, tc.want, tc.pos, tc.r)
			}
			if got != "" {
				t.Errorf("a refused name returned %+q", got)
			}
		})
	}
}

func TestNameErrorsSayWhatIsWrong(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"alice\u200b", "invisible, format or direction-changing character U+200B at position 6"},
		{"a\x07", "control character U+0007 at position 2"},
		{strings.Repeat("x", 33), "too many characters: 33, at most 32"},
		{" ", "empty after trimming spaces"},
	} {
		if _, err := display.Name(tc.in, 32); err == nil || err.Error() != tc.want {
			t.Errorf("Name(%+q): %v, want %q", tc.in, err, tc.want)
		}
	}
}

// The limit is the caller's: a team name's 16, an event name's 32.
func TestNameCountsAgainstTheCallersLimit(t *testing.T) {
	if _, err := display.Name(strings.Repeat("队", 16), 16); err != nil {
		t.Errorf("16 of 16: %v", err)
	}
	var e *display.Error
	if _, err := display.Name(strings.Repeat("队", 17), 16); !errors.As(err, &e) || e.Len != 17 || e.Max != 16 {
		t.Errorf("17 of 16: %#v", err)
	}
}
