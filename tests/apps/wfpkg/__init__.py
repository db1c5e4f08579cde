"""wfpkg: a package for the pkg.module[:NAME|:factory()] APP forms."""
