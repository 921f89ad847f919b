-- Neovim 0.7 headless: open the changed file, start quorum-ls on it, write the file, wait for
-- diagnostics, check their line, range and message, ask for code actions on the fixed line,
-- apply the fix and check the buffer. Writes "ok NAME" / "FAIL NAME: detail" lines to
-- $QUORUM_RESULT; every wait is bounded; always exits.
local env = os.getenv
local out = assert(io.open(env('QUORUM_RESULT'), 'a'))

local function check(name, cond, detail)
  out:write((cond and 'ok ' or 'FAIL ') .. 'nvim/' .. name ..
            (cond and '' or (': ' .. vim.inspect(detail))) .. '\n')
  out:flush()
  return cond
end

local function finish()
  out:close()
  vim.cmd('qall!')
end

local ok, err = pcall(function()
  vim.cmd('edit ' .. vim.fn.fnameescape(env('QUORUM_FILE')))
  local bufnr = vim.api.nvim_get_current_buf()
  local id = vim.lsp.start_client({
    name = 'quorum',
    cmd = {env('QUORUM_LS'), '--config', env('QUORUM_CONFIG_FILE')},
    root_dir = env('QUORUM_ROOT'),
    init_options = {debounceMs = 50},
  })
  if not check('start_client', id, 'no client id') then return end
  vim.lsp.buf_attach_client(bufnr, id)
  local client
  vim.wait(20000, function()
    client = vim.lsp.get_client_by_id(id)
    return client ~= nil and client.initialized
  end, 50)
  if not check('initialized', client and client.initialized) then return end

  vim.cmd('write') -- didSave starts the review
  -- the final publication: the provisional ones (passes still answering) say so
  vim.wait(40000, function()
    local ds = vim.diagnostic.get(bufnr)
    for _, x in ipairs(ds) do
      if x.message:find('provisional', 1, true) then return false end
    end
    return #ds > 0
  end, 100)
  local diags = vim.diagnostic.get(bufnr)
  if not check('diagnostics', #diags == 1, diags) then return end
  local d = diags[1]
  check('line', d.lnum == 5, d)
  check('message', d.message:find('(2/2 passes)', 1, true) ~= nil, d.message)
  check('source', d.source == 'quorum', d.source)
  -- The range covers exactly the non-blank text of the non-ASCII line (UTF-16 ↔ bytes).
  local line = vim.api.nvim_buf_get_lines(bufnr, 5, 6, false)[1]
  local want = vim.trim(env('QUORUM_LINE6'))
  check('range', line:sub(d.col + 1, d.end_col) == want, {d.col, d.end_col, line})

  vim.api.nvim_win_set_cursor(0, {6, 6})
  local params = vim.lsp.util.make_range_params()
  params.context = {diagnostics = {}}
  local res = vim.lsp.buf_request_sync(bufnr, 'textDocument/codeAction', params, 20000) or {}
  local fix
  for _, r in pairs(res) do
    for _, a in ipairs(r.result or {}) do
      if a.kind == 'quickfix' then fix = a end
    end
  end
  if not check('code_action', fix ~= nil, res) then return end
  -- Neovim 0.7 advertises resolveSupport for "edit", so the server sends the edit lazily.
  check('edit_is_lazy', fix.edit == nil and fix.data ~= nil, fix)
  if not fix.edit then
    local r = client.request_sync('codeAction/resolve', fix, 20000, bufnr) or {}
    fix = r.result or {}
  end
  if not check('resolved', fix.edit ~= nil, fix) then return end
  check('preferred', fix.isPreferred ~= nil, fix)
  vim.lsp.util.apply_workspace_edit(fix.edit, client.offset_encoding)
  local fixed = vim.api.nvim_buf_get_lines(bufnr, 5, 6, false)[1]
  check('fix_applied', fixed == env('QUORUM_FIXED6'), fixed)
  check('other_lines_kept', vim.api.nvim_buf_line_count(bufnr) == 7 and
        vim.api.nvim_buf_get_lines(bufnr, 6, 7, false)[1] == '    return msg',
        vim.api.nvim_buf_get_lines(bufnr, 0, -1, false))
end)
if not ok then check('no_error', false, err) end
finish()
