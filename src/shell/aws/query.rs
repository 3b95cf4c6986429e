//! `--query`: a JMESPath expression applied to a response before it is printed, as the CLI's Python
//! jmespath evaluates it.

use serde_json::Value;

use super::failure::Failure;

/// `--query`, as the CLI's Python jmespath evaluates it: a backtick literal that is not JSON is a
/// string (`` `test` ``, the legacy form), and a multi-select hash keeps its keys in the order written.
pub fn apply_query(query: &str, value: &Value) -> Result<Value, Failure> {
    let expression = jmespath::compile(&legacy_literals(query)).map_err(|e| {
        // Python's jmespath on an expression that stops short, else the Rust crate's own words.
        let reason = if e.to_string().contains("found Eof") {
            format!("Incomplete expression:\n\"{query}\"\n{}^", " ".repeat(query.chars().count() + 1))
        } else {
            e.to_string()
        };
        Failure::Other(format!("Bad value for --query {query}: Invalid jmespath expression: {reason}"))
    })?;
    let data = jmespath::Variable::from_json(&value.to_string()).map_err(Failure::Other)?;
    let found = expression.search(data).map_err(|e| Failure::Other(format!("Bad value for --query {query}: {e}")))?;
    let mut result = serde_json::to_value(&*found).map_err(|e| Failure::Other(e.to_string()))?;
    let mut orders = Vec::new();
    hash_key_orders(expression.as_ast(), &mut orders);
    reorder_keys(&mut result, &orders);
    Ok(result)
}

/// Rewrites each backtick literal that is not valid JSON as a JSON string, as Python's jmespath does.
fn legacy_literals(query: &str) -> String {
    let mut out = String::with_capacity(query.len());
    let mut rest = query;
    while let Some(start) = rest.find('`') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        // The closing backtick is the next one not escaped with a backslash.
        let mut end = None;
        let mut escaped = false;
        for (i, c) in after.char_indices() {
            match c {
                '\\' if !escaped => escaped = true,
                '`' if !escaped => {
                    end = Some(i);
                    break;
                }
                _ => escaped = false,
            }
        }
        let Some(end) = end else {
            out.push_str(&rest[start..]);
            return out;
        };
        let literal = after[..end].replace("\\`", "`");
        if serde_json::from_str::<Value>(&literal).is_ok() {
            out.push_str(&rest[start..start + end + 2]);
        } else {
            let json = Value::String(literal.trim().to_owned()).to_string().replace('`', "\\`");
            out.push('`');
            out.push_str(&json);
            out.push('`');
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The key order of every multi-select hash (`{a: x, b: y}`) in the expression.
fn hash_key_orders(ast: &jmespath::ast::Ast, orders: &mut Vec<Vec<String>>) {
    use jmespath::ast::Ast;
    match ast {
        Ast::MultiHash { elements, .. } => {
            orders.push(elements.iter().map(|kv| kv.key.clone()).collect());
            for kv in elements {
                hash_key_orders(&kv.value, orders);
            }
        }
        Ast::Comparison { lhs, rhs, .. }
        | Ast::Projection { lhs, rhs, .. }
        | Ast::And { lhs, rhs, .. }
        | Ast::Or { lhs, rhs, .. }
        | Ast::Subexpr { lhs, rhs, .. } => {
            hash_key_orders(lhs, orders);
            hash_key_orders(rhs, orders);
        }
        Ast::Condition { predicate, then, .. } => {
            hash_key_orders(predicate, orders);
            hash_key_orders(then, orders);
        }
        Ast::Expref { ast, .. } => hash_key_orders(ast, orders),
        Ast::Flatten { node, .. } | Ast::Not { node, .. } | Ast::ObjectValues { node, .. } => {
            hash_key_orders(node, orders)
        }
        Ast::Function { args, .. } => args.iter().for_each(|a| hash_key_orders(a, orders)),
        Ast::MultiList { elements, .. } => elements.iter().for_each(|a| hash_key_orders(a, orders)),
        _ => {}
    }
}

/// Puts the keys of every object built by a multi-select hash back in the order written.
fn reorder_keys(value: &mut Value, orders: &[Vec<String>]) {
    match value {
        Value::Object(map) => {
            for member in map.values_mut() {
                reorder_keys(member, orders);
            }
            let keys: Vec<&String> = map.keys().collect();
            if let Some(order) = orders.iter().find(|o| o.len() == keys.len() && o.iter().all(|k| map.contains_key(k)))
            {
                let mut ordered = serde_json::Map::new();
                for key in order {
                    if let Some(v) = map.remove(key) {
                        ordered.insert(key.clone(), v);
                    }
                }
                *map = ordered;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| reorder_keys(i, orders)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn queries_read_as_the_cli_reads_them() {
        assert_eq!(super::legacy_literals("a[?n==`test`].b"), "a[?n==`\"test\"`].b");
        assert_eq!(super::legacy_literals("a[?n==`\"x\"`]"), "a[?n==`\"x\"`]");
        assert_eq!(super::legacy_literals("contains(t, `v1`) && `3` == `3`"), "contains(t, `\"v1\"`) && `3` == `3`");
        assert_eq!(super::legacy_literals("unclosed `x"), "unclosed `x");
        let value = serde_json::json!({ "items": [{ "a": 1, "z": 2, "m": [3] }] });
        let found = super::apply_query("items[].{z: z, a: a, m: m}", &value).ok().unwrap();
        assert_eq!(found.to_string(), r#"[{"z":2,"a":1,"m":[3]}]"#);
    }
}
