"""SQL access, one module per table family. Functions take ``conn`` first and never commit."""
