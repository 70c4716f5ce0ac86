"""HTML pages of the tracker: reading (`pages`), editing (`edits`), people and sharing (`people`),
and document upload (`imports`). Views are thin: a selector or a form in, a service call, a page out."""
