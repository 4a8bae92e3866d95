package day_test

import (
	"fmt"

	"github.com/werun-sam/werun-sam/shared/day"
)

func ExampleRules_Plausible() {
	r := day.Rules{}.WithDefaults()
	// 30,000 steps stamped at 01:00 CST is more than 250 a minute.
	fmt.Println(r.Plausible(30000, 1772298000, "2026-03-01"))
	// Output: false
}
