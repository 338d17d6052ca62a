//! Quoting for the SQL gapmap writes itself (GeoPackage's and PostGIS's `layer_styles`,
//! PostGIS schemas and tables): what SQLite and PostgreSQL both read the same way.

/// `"name"`: an identifier, quoted for SQL.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'text'`: a string literal for SQL (standard conforming strings).
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted() {
        assert_eq!(quote_ident("gapmap"), "\"gapmap\"");
        assert_eq!(quote_ident("a\"b; DROP"), "\"a\"\"b; DROP\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
    }
}
