// Package sheet writes a table as an XLSX workbook of one sheet, with
// excelize. It is its own package so that only the function that answers
// the step challenges' export links excelize (about 5 MB of binary and
// 2 ms of start-up): functions/challenge hands Write to the challenges.
package sheet

import (
	"iter"

	"github.com/xuri/excelize/v2"
)

// Write streams rows (the first is the header) into one sheet: strings as
// text cells, numbers as numeric cells, booleans as boolean cells. A row
// is written as it is yielded, so 500,000 cells are never held at once.
func Write(rows iter.Seq[[]any]) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter(f.GetSheetName(0))
	if err != nil {
		return nil, err
	}
	i := 0
	for r := range rows {
		i++
		cell, err := excelize.CoordinatesToCellName(1, i)
		if err != nil {
			return nil, err
		}
		if err := sw.SetRow(cell, r); err != nil {
			return nil, err
		}
	}
	if err := sw.Flush(); err != nil {
		return nil, err
	}
	b, err := f.WriteToBuffer()
	if err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
