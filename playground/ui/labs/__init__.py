"""The book's labs in the app: a start page by chapter, one page per lab, and the Labs menu."""
