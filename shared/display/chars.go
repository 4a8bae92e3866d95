package display

import "unicode"

// defaultIgnorable reports whether r has the Unicode property
// Default_Ignorable_Code_Point: a character a renderer may show as nothing
// at all. Go's unicode package has no table of it, so it is derived as
// UAX #44 (DerivedCoreProperties.txt) derives it:
//
//	Other_Default_Ignorable_Code_Point + Cf + Variation_Selector
//	- White_Space - FFF9..FFFB (interlinear annotation)
//	- 13430..1343F (Egyptian hieroglyph format controls)
//	- Prepended_Concatenation_Mark (0600..0605, 06DD, 070F, 0890..0891,
//	  08E2, 110BD, 110CD: format characters that are shown)
func defaultIgnorable(r rune) bool {
	if !unicode.In(r, unicode.Other_Default_Ignorable_Code_Point, unicode.Cf, unicode.Variation_Selector) {
		return false
	}
	return !unicode.Is(unicode.White_Space, r) &&
		!(r >= 0xFFF9 && r <= 0xFFFB) &&
		!(r >= 0x13430 && r <= 0x1343F) &&
		!unicode.Is(unicode.Prepended_Concatenation_Mark, r)
}

// Characters with a place in emoji sequences (UTS #51), all of them
// Default_Ignorable_Code_Point.
const (
	zwj       = '\u200D' // joins pictographs: family, profession, rainbow flag
	vs15      = '\uFE0E' // text presentation
	vs16      = '\uFE0F' // emoji presentation
	tagFirst  = '\U000E0020'
	tagLast   = '\U000E007E'
	tagCancel = '\U000E007F' // ends a tag sequence (subdivision flags)
)

// blank are characters that are not Default_Ignorable_Code_Point yet show
// as nothing or as a line break in a one-line name.
func blank(r rune) bool {
	return r == '\u2028' || r == '\u2029' || r == '\u2800' // line and paragraph separators, braille blank
}

// checkRunes returns the 0-based index of the first refused rune of rs and
// the sentinel saying why, or -1. Refused: control characters (Cc), the
// blank ones, and every Default_Ignorable_Code_Point except an emoji
// sequence's own: VS15/VS16 right after a pictograph or a keycap base, a
// ZWJ between pictographs (after a pictograph's modifiers or VS16), and a
// tag sequence right after a pictograph ended by CANCEL TAG.
func checkRunes(rs []rune) (int, error) {
	// inEmoji: since the last pictograph there were only its modifiers,
	// presentation selectors and tags, so a ZWJ may follow.
	inEmoji := false
	at := func(i int) rune {
		if i < 0 || i >= len(rs) {
			return -1
		}
		return rs[i]
	}
	for i, r := range rs {
		prev, next := at(i-1), at(i+1)
		var ok bool
		switch {
		case unicode.IsControl(r):
			return i, ErrControl
		case blank(r):
			return i, ErrInvisible
		case r == vs15 || r == vs16:
			ok = pictograph(prev) || keycapBase(prev)
		case r == zwj:
			ok = inEmoji && pictograph(next)
		case r >= tagFirst && r <= tagLast:
			ok = (pictograph(prev) || (prev >= tagFirst && prev <= tagLast)) &&
				next >= tagFirst && next <= tagCancel
		case r == tagCancel:
			ok = prev >= tagFirst && prev <= tagLast
		case defaultIgnorable(r):
			return i, ErrInvisible
		default:
			// Skin-tone modifiers keep a pictograph's sequence open; any
			// other character closes it.
			inEmoji = pictograph(r) || (inEmoji && emojiModifier(r))
			continue
		}
		if !ok {
			return i, ErrInvisible
		}
	}
	return -1, nil
}

func keycapBase(r rune) bool { return r == '#' || r == '*' || (r >= '0' && r <= '9') }

// emojiModifier: the five skin tones (Emoji_Modifier).
func emojiModifier(r rune) bool { return r >= 0x1F3FB && r <= 0x1F3FF }

// pictograph reports whether r has the property Extended_Pictographic, the
// characters UAX #29 lets a ZWJ join into one emoji (rule GB11). Neither
// Go's unicode package nor golang.org/x/text has it, and the grapheme
// libraries keep theirs unexported; the ranges are emoji-data.txt of
// Unicode 15.0 (the version of Go's unicode tables), adjacent ranges
// merged. The property reserves whole unassigned blocks for future emoji,
// so it rarely changes; a test checks it against github.com/rivo/uniseg's
// grapheme clusters.
func pictograph(r rune) bool {
	return r >= 0 && unicode.Is(extendedPictographic, r)
}

var extendedPictographic = &unicode.RangeTable{
	R16: []unicode.Range16{
		{0x00A9, 0x00A9, 1}, {0x00AE, 0x00AE, 1}, {0x203C, 0x203C, 1}, {0x2049, 0x2049, 1},
		{0x2122, 0x2122, 1}, {0x2139, 0x2139, 1}, {0x2194, 0x2199, 1}, {0x21A9, 0x21AA, 1},
		{0x231A, 0x231B, 1}, {0x2328, 0x2328, 1}, {0x2388, 0x2388, 1}, {0x23CF, 0x23CF, 1},
		{0x23E9, 0x23F3, 1}, {0x23F8, 0x23FA, 1}, {0x24C2, 0x24C2, 1}, {0x25AA, 0x25AB, 1},
		{0x25B6, 0x25B6, 1}, {0x25C0, 0x25C0, 1}, {0x25FB, 0x25FE, 1}, {0x2600, 0x2605, 1},
		{0x2607, 0x2612, 1}, {0x2614, 0x2685, 1}, {0x2690, 0x2705, 1}, {0x2708, 0x2712, 1},
		{0x2714, 0x2714, 1}, {0x2716, 0x2716, 1}, {0x271D, 0x271D, 1}, {0x2721, 0x2721, 1},
		{0x2728, 0x2728, 1}, {0x2733, 0x2734, 1}, {0x2744, 0x2744, 1}, {0x2747, 0x2747, 1},
		{0x274C, 0x274C, 1}, {0x274E, 0x274E, 1}, {0x2753, 0x2755, 1}, {0x2757, 0x2757, 1},
		{0x2763, 0x2767, 1}, {0x2795, 0x2797, 1}, {0x27A1, 0x27A1, 1}, {0x27B0, 0x27B0, 1},
		{0x27BF, 0x27BF, 1}, {0x2934, 0x2935, 1}, {0x2B05, 0x2B07, 1}, {0x2B1B, 0x2B1C, 1},
		{0x2B50, 0x2B50, 1}, {0x2B55, 0x2B55, 1}, {0x3030, 0x3030, 1}, {0x303D, 0x303D, 1},
		{0x3297, 0x3297, 1}, {0x3299, 0x3299, 1},
	},
	R32: []unicode.Range32{
		{0x1F000, 0x1F0FF, 1}, {0x1F10D, 0x1F10F, 1}, {0x1F12F, 0x1F12F, 1}, {0x1F16C, 0x1F171, 1},
		{0x1F17E, 0x1F17F, 1}, {0x1F18E, 0x1F18E, 1}, {0x1F191, 0x1F19A, 1}, {0x1F1AD, 0x1F1E5, 1},
		{0x1F201, 0x1F20F, 1}, {0x1F21A, 0x1F21A, 1}, {0x1F22F, 0x1F22F, 1}, {0x1F232, 0x1F23A, 1},
		{0x1F23C, 0x1F23F, 1}, {0x1F249, 0x1F3FA, 1}, {0x1F400, 0x1F53D, 1}, {0x1F546, 0x1F64F, 1},
		{0x1F680, 0x1F6FF, 1}, {0x1F774, 0x1F77F, 1}, {0x1F7D5, 0x1F7FF, 1}, {0x1F80C, 0x1F80F, 1},
		{0x1F848, 0x1F84F, 1}, {0x1F85A, 0x1F85F, 1}, {0x1F888, 0x1F88F, 1}, {0x1F8AE, 0x1F8FF, 1},
		{0x1F90C, 0x1F93A, 1}, {0x1F93C, 0x1F945, 1}, {0x1F947, 0x1FAFF, 1}, {0x1FC00, 0x1FFFD, 1},
	},
	LatinOffset: 2,
}
