-- quorum.nvim — the Neovim client for quorum-ls (code review by a quorum of models).
--
-- setup{} registers a FileType autocommand: each buffer of a supported language attaches to the
-- one client of its root (the nearest folder with .git or .quorum, else the file's folder),
-- started with vim.lsp.start where Neovim has it (0.8+) and vim.lsp.start_client on 0.7.
-- Commands call the server's quorum.* commands and custom requests; progress reports from
-- reviews feed M.status() for the statusline. Works with Neovim 0.7.2 and later.
local M = {}

local defaults = {
  cmd = {'quorum-ls'},
  -- Sent as initializationOptions and answered to workspace/configuration section "quorum".
  settings = {}, -- {configFile = '~/.config/quorum/config.json', trigger = 'onSave'|'manual', debounceMs = 1000}
  filetypes = {'c', 'cpp', 'python', 'javascript', 'javascriptreact', 'typescript',
               'typescriptreact', 'go', 'rust', 'java', 'sh', 'bash', 'ruby'},
  root_markers = {'.git', '.quorum'},
  on_attach = nil, -- function(client, bufnr), called after quorum's own attach
}

M.config = vim.deepcopy(defaults)
local clients = {}  -- root → client id
local progress = {} -- client id → token → {done, total, cost} (tokens restart at quorum-1 per server)
local last = ''     -- the last finished review, for the statusline

local function notify(msg, level)
  vim.notify('quorum: ' .. msg, level or vim.log.levels.INFO)
end

--- The review root of a file: the nearest ancestor holding one of the markers, else its folder.
function M.root_of(path)
  local dir = vim.fn.fnamemodify(path, ':p:h')
  while true do
    for _, marker in ipairs(M.config.root_markers) do
      if vim.loop.fs_stat(dir .. '/' .. marker) then return dir end
    end
    local parent = vim.fn.fnamemodify(dir, ':h')
    if parent == dir then return vim.fn.fnamemodify(path, ':p:h') end
    dir = parent
  end
end

--- Statusline text: running passes and cost (of client_id's server, or of all), else the last
--- review's outcome ('' before any).
function M.status(client_id)
  local done, total, cost, n = 0, 0, 0, 0
  for _, runs in pairs(client_id and {progress[client_id]} or progress) do
    for _, p in pairs(runs) do
      done, total, cost, n = done + p.done, total + p.total, cost + p.cost, n + 1
    end
  end
  if n > 0 then return string.format('quorum %d/%d passes $%.4f', done, total, cost) end
  return last
end

-- $/progress from quorum-ls: begin / report "D/T passes done, $C" / end "N findings".
local function on_progress(err, result, ctx, config)
  local default = vim.lsp.handlers['$/progress']
  if default then default(err, result, ctx, config) end
  local v, token = result and result.value, result and tostring(result.token)
  if type(v) ~= 'table' or not ctx or not ctx.client_id then return end
  local runs = progress[ctx.client_id] or {}
  progress[ctx.client_id] = runs
  if v.kind == 'end' then
    local p = runs[token]
    last = string.format('quorum %s $%.4f', v.message or '', p and p.cost or 0)
    runs[token] = nil
  else
    local p = runs[token] or {done = 0, total = 0, cost = 0}
    local d, t, c = (v.message or ''):match('(%d+)/(%d+) passes done, %$([%d.]+)')
    if d then p.done, p.total, p.cost = tonumber(d), tonumber(t), tonumber(c) end
    runs[token] = p
  end
  vim.cmd('redrawstatus')
end

--- The real path of a configFile setting, or nil and why it is refused: '~' expands against
--- the home, other relative paths are refused (they would resolve against the workspace), and
--- after symlinks and '..' are followed it must lie outside `root`.
function M.resolve_config(setting, root)
  local expanded = setting
  if setting == '~' or setting:sub(1, 2) == '~/' then expanded = vim.loop.os_homedir() .. setting:sub(2) end
  if expanded:sub(1, 1) ~= '/' then return nil, setting .. ' is relative: give an absolute path or ~/...' end
  local real = vim.loop.fs_realpath(expanded)
  if not real then return nil, expanded .. ' does not exist' end
  local real_root = vim.loop.fs_realpath(root) or root
  if real == real_root or real:sub(1, #real_root + 1) == real_root .. '/' then
    return nil, real .. ' is inside the workspace ' .. root
  end
  return real
end

--- The settings sent for `root`: configFile resolved, or left out (with a message) when refused.
local function settings_for(root)
  local settings = vim.deepcopy(M.config.settings)
  if type(settings.configFile) == 'string' and settings.configFile ~= '' then
    local real, why = M.resolve_config(settings.configFile, root)
    if not real then notify('configFile refused: ' .. why, vim.log.levels.ERROR) end
    settings.configFile = real
  end
  return settings
end

local function client_config(root)
  local settings = settings_for(root)
  return {
    name = 'quorum',
    cmd = M.config.cmd,
    root_dir = root,
    workspace_folders = {{uri = vim.uri_from_fname(root), name = root}},
    init_options = settings,
    settings = {quorum = settings}, -- what Neovim answers to workspace/configuration
    handlers = {['$/progress'] = on_progress},
    on_attach = M.config.on_attach,
    on_exit = function(_, _, client_id)
      clients[root] = nil
      progress[client_id] = nil -- a dead server's reviews are not running any more
      vim.schedule(function() vim.cmd('redrawstatus') end)
    end,
  }
end

--- Attaches buffer bufnr to the client of its root, starting that client when needed.
function M.attach(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == '' or vim.bo[bufnr].buftype ~= '' then return nil end
  local root = M.root_of(name)
  if vim.lsp.start then -- 0.8+: reuses the client with the same name and root
    local id = vim.lsp.start(client_config(root), {bufnr = bufnr})
    clients[root] = id
    return id
  end
  local id = clients[root]
  if not id or not vim.lsp.get_client_by_id(id) then
    id = vim.lsp.start_client(client_config(root))
    if not id then
      notify('cannot start ' .. tostring(M.config.cmd[1]), vim.log.levels.ERROR)
      return nil
    end
    clients[root] = id
  end
  vim.lsp.buf_attach_client(bufnr, id)
  return id
end

--- The quorum client of buffer bufnr (nil when none is attached).
function M.client(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  for _, c in pairs(vim.lsp.buf_get_clients(bufnr)) do
    if c.name == 'quorum' then return c end
  end
  return nil
end

local function request(method, params, on_result)
  local bufnr = vim.api.nvim_get_current_buf()
  local c = M.client(bufnr)
  if not c then return notify('no quorum-ls attached to this buffer', vim.log.levels.WARN) end
  c.request(method, params, function(err, result)
    if err then
      if on_result then return on_result(err, nil) end
      return notify(err.message or vim.inspect(err), vim.log.levels.ERROR)
    end
    if on_result then on_result(nil, result) end
  end, bufnr)
end

local function execute(command, args)
  request('workspace/executeCommand', {command = command, arguments = args})
end

local function root_arg()
  return {root = M.root_of(vim.api.nvim_buf_get_name(0))}
end

function M.review() execute('quorum.reviewFile', {vim.uri_from_bufnr(0)}) end
function M.review_changes() execute('quorum.reviewChanges', {root_arg()}) end
function M.review_staged() execute('quorum.reviewStaged', {root_arg()}) end
function M.clear() execute('quorum.clear', {}) end

--- The fingerprint of the quorum diagnostic on the cursor's line, if any.
function M.fingerprint_at_cursor()
  local line = vim.api.nvim_win_get_cursor(0)[1] - 1
  for _, d in ipairs(vim.diagnostic.get(0)) do
    local data = d.user_data and d.user_data.lsp and d.user_data.lsp.data
    if d.source == 'quorum' and data and data.fingerprint and d.lnum <= line and
        line <= (d.end_lnum or d.lnum) then
      return data.fingerprint
    end
  end
  return nil
end

local function with_finding(command)
  local fp = M.fingerprint_at_cursor()
  if not fp then return notify('no finding on this line') end
  execute(command, {vim.uri_from_bufnr(0), fp})
end

function M.dismiss() with_finding('quorum.dismiss') end
function M.explain() with_finding('quorum.explain') end

--- Shows the call ledger in a scratch buffer; an older server without quorum/ledger gets a message.
function M.ledger()
  request('quorum/ledger', root_arg(), function(err, result)
    if err then
      if err.code == vim.lsp.protocol.ErrorCodes.MethodNotFound then
        return notify('this quorum-ls has no call ledger (quorum/ledger); update the server')
      end
      return notify(err.message or vim.inspect(err), vim.log.levels.ERROR)
    end
    vim.cmd('new')
    vim.bo.buftype, vim.bo.bufhidden, vim.bo.filetype = 'nofile', 'wipe', 'json'
    vim.api.nvim_buf_set_lines(0, 0, -1, false, vim.split(vim.fn.json_encode(result), '\n'))
  end)
end

local commands = {
  QuorumReview = 'review', QuorumReviewChanges = 'review_changes',
  QuorumReviewStaged = 'review_staged', QuorumDismiss = 'dismiss', QuorumExplain = 'explain',
  QuorumClear = 'clear', QuorumLedger = 'ledger',
}

--- setup{cmd = {...}, settings = {...}, filetypes = {...}, root_markers = {...}, on_attach = fn}
function M.setup(opts)
  M.config = vim.tbl_deep_extend('force', vim.deepcopy(defaults), opts or {})
  if opts and opts.filetypes then M.config.filetypes = opts.filetypes end
  for name, fn in pairs(commands) do
    vim.cmd(string.format("command! %s lua require('quorum').%s()", name, fn))
  end
  vim.cmd('augroup quorum')
  vim.cmd('autocmd!')
  vim.cmd(string.format("autocmd FileType %s lua require('quorum').attach(tonumber(vim.fn.expand('<abuf>')))",
                        table.concat(M.config.filetypes, ',')))
  vim.cmd('augroup END')
  -- Buffers already open when setup runs.
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(b) and vim.tbl_contains(M.config.filetypes, vim.bo[b].filetype) then
      M.attach(b)
    end
  end
end

return M
