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

  vim.cmd('write') -- didSave starts the review
  vim.wait(40000, function() return #vim.diagnostic.get(bufnr) > 0 end, 100)
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
  vim.wait(40000, function() return #vim.diagnostic.get(bufnr) > 0 end, 100)
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
end)
if not ok then check('no_error', false, err) end
out:close()
vim.cmd('qall!')
