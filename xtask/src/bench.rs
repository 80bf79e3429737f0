pub fn server(_root: &std::path::Path, _args: &[&str]) -> anyhow::Result<()> {
    anyhow::bail!("not yet")
}
