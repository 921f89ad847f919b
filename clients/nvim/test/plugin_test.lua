-- Headless Neovim test of the plugin (clients/nvim), run by tests/e2e/test_nvim_plugin through
-- tests/editors/runner.py: setup, open the changed file (the FileType autocommand attaches it),
-- save, diagnostics appear; statusline, :QuorumClear, :QuorumReview, :QuorumLedger,
-- :QuorumDismiss; a second file of the same root shares the client. Writes "ok NAME" /
-- "FAIL NAME: detail" lines to $QUORUM_RESULT; every wait is bounded; always exits.
local env = os.getenv
local out = assert(io.open(env('QUORUM_RESULT'), 'a'))

local function check(name, cond, detail)
  out:write((cond and 'ok ' or 'FAIL ') .. 'nvim-plugin/' .. name ..
            (cond and '' or (': ' .. vim.inspect(detail))) .. '\n')
  out:flush()
  return cond
end

local notes = {}
vim.notify = function(msg) table.insert(notes, msg) end

local ok, err = pcall(function()
  local quorum = require('quorum')
  quorum.setup({cmd = {env('QUORUM_LS')},
                settings = {configFile = env('QUORUM_CONFIG_FILE'), debounceMs = 50}})
  for _, c in ipairs({'QuorumReview', 'QuorumReviewStaged', 'QuorumDismiss', 'QuorumLedger'}) do
    check('command_' .. c, vim.fn.exists(':' .. c) == 2)
  end
  vim.cmd('edit ' .. vim.fn.fnameescape(env('QUORUM_FILE')))
  local bufnr = vim.api.nvim_get_current_buf()
  check('root', quorum.root_of(env('QUORUM_FILE')) == env('QUORUM_ROOT'), quorum.root_of(env('QUORUM_FILE')))
  local client
  vim.wait(20000, function()
    client = quorum.client(bufnr)
    return client ~= nil and client.initialized
  end, 50)
  if not check('attached_on_filetype', client and client.initialized) then return end

  -- A review's final diagnostics: provisional ones (passes still answering) say so.
  local function final()
    local ds = vim.diagnostic.get(bufnr)
    for _, x in ipairs(ds) do
      if x.message:find('provisional', 1, true) then return false end
    end
    return #ds > 0
  end
  vim.cmd('write') -- didSave starts the review
  vim.wait(40000, final, 100)
  local diags = vim.diagnostic.get(bufnr)
  if not check('diagnostics', #diags == 1, diags) then return end
  check('line', diags[1].lnum == 5, diags[1])
  check('message', diags[1].message:find('(2/2 passes)', 1, true) ~= nil, diags[1].message)
  vim.wait(5000, function() return quorum.status():find('findings') ~= nil end, 50)
  check('statusline', quorum.status():match('^quorum 1 findings %$%d') ~= nil, quorum.status())

  vim.cmd('QuorumClear')
  vim.wait(5000, function() return #vim.diagnostic.get(bufnr) == 0 end, 50)
  check('clear', #vim.diagnostic.get(bufnr) == 0, vim.diagnostic.get(bufnr))
  vim.cmd('QuorumReview')
  vim.wait(40000, final, 100)
  check('review_command', #vim.diagnostic.get(bufnr) == 1, vim.diagnostic.get(bufnr))

  local wins = #vim.api.nvim_list_wins()
  vim.cmd('QuorumLedger')
  vim.wait(5000, function()
    return #vim.api.nvim_list_wins() > wins or vim.tbl_count(notes) > 0
  end, 50)
  local said = table.concat(notes, '\n')
  check('ledger', #vim.api.nvim_list_wins() > wins or said:find('no call ledger', 1, true), notes)
  if #vim.api.nvim_list_wins() > wins then vim.cmd('close') end

  vim.api.nvim_set_current_buf(bufnr)
  vim.api.nvim_win_set_cursor(0, {6, 4})
  check('fingerprint_at_cursor', quorum.fingerprint_at_cursor() ~= nil)
  vim.cmd('QuorumDismiss')
  vim.wait(5000, function() return #vim.diagnostic.get(bufnr) == 0 end, 50)
  check('dismiss', #vim.diagnostic.get(bufnr) == 0, vim.diagnostic.get(bufnr))
  check('dismissed_recorded', vim.loop.fs_stat(env('QUORUM_ROOT') .. '/.quorum/dismissed') ~= nil)

  -- Another file of the same repository shares the client.
  vim.cmd('edit ' .. vim.fn.fnameescape(env('QUORUM_ROOT') .. '/src/other.py'))
  local other = vim.api.nvim_get_current_buf()
  vim.wait(5000, function() return quorum.client(other) ~= nil end, 50)
  local oc = quorum.client(other)
  check('one_client_per_root', oc ~= nil and oc.id == client.id, oc and oc.id)

  -- Progress is kept per client and token (every server numbers its tokens from quorum-1), and
  -- a server that exits takes its running reviews along.
  local h = client.handlers['$/progress']
  local report = function(id, msg) h(nil, {token = 'quorum-1', value = {kind = 'report', message = msg}}, {client_id = id}) end
  report(client.id, '1/2 passes done, $0.1000')
  report(client.id + 1000, '2/4 passes done, $0.2000') -- another server, same token
  check('status_per_client', quorum.status() == 'quorum 3/6 passes $0.3000' and
        quorum.status(client.id) == 'quorum 1/2 passes $0.1000', quorum.status())
  vim.lsp.stop_client(client.id, true)
  vim.wait(10000, function() return vim.lsp.get_client_by_id(client.id) == nil end, 50)
  vim.wait(5000, function() return quorum.status() == 'quorum 2/4 passes $0.2000' end, 50)
  check('status_cleared_on_exit', quorum.status() == 'quorum 2/4 passes $0.2000', quorum.status())

  -- A configFile the repository supplies is refused however it is written.
  local root, home = env('QUORUM_ROOT'), vim.loop.os_homedir()
  for name, bad in pairs({relative = 'ws-cfg.json', dotdot = root .. '/src/../ws-cfg.json', tilde = '~/link.json',
                          symlink = home .. '/link.json', inside = env('QUORUM_WS_CONFIG')}) do
    local real, why = quorum.resolve_config(bad, root)
    check('config_refused/' .. name, real == nil and why ~= nil, real)
  end
  vim.loop.fs_symlink(env('QUORUM_CONFIG_FILE'), home .. '/good.json')
  check('config_tilde_expands', quorum.resolve_config('~/good.json', root) == vim.loop.fs_realpath(env('QUORUM_CONFIG_FILE')))
  -- …and the server started with it never hears of it (the runner checks its provider got nothing).
  quorum.setup({cmd = {env('QUORUM_LS'), '--config', env('QUORUM_CONFIG_FILE')},
                settings = {configFile = 'ws-cfg.json', debounceMs = 0}})
  vim.cmd('edit ' .. vim.fn.fnameescape(env('QUORUM_FILE')))
  local c2
  vim.wait(20000, function()
    c2 = quorum.client(0)
    return c2 ~= nil and c2.initialized
  end, 50)
  check('config_refused_said', table.concat(notes, '\n'):find('configFile refused', 1, true), notes)
  check('config_refused_not_sent', c2 and c2.config.init_options.configFile == nil, c2 and c2.config.init_options)
  local before = quorum.status()
  vim.cmd('QuorumReview')
  vim.wait(20000, function() return quorum.status() ~= before and not quorum.status():find('passes') end, 100)
end)
if not ok then check('no_error', false, err) end
out:close()
vim.cmd('qall!')
