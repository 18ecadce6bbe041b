"""Plain-text layout shared by both faces: fitting values into a terminal's width and
drawing plots as text. No Textual, click or rich here, so `workbook check` and the TUI
lay out the same text the same way without either face importing the other."""
