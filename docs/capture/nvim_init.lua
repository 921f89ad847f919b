-- Neovim setup for the docs screenshot (docs/capture/nvim_scene.py runs it in tmux): the quorum
-- plugin from clients/nvim, then the scene — save the changed file, wait for quorum's
-- diagnostics, put the cursor on the first one, open its float — and finally write
-- $CAPTURE_READY so the script knows the screen is ready. Gives up (writing "timeout") after
-- WAIT_MS so the script never hangs.
local env = os.getenv
local WAIT_MS = 60000

vim.opt.runtimepath:prepend(env('QUORUM_NVIM'))
vim.o.termguicolors = true
vim.o.background = 'dark'
vim.cmd('colorscheme desert')
-- desert's grey panels and 0.7's magenta floats, toned down to one dark background.
for group, spec in pairs({
  Normal = 'guifg=#d4d4d4 guibg=NONE', NonText = 'guifg=#4a4a4a guibg=NONE',
  SignColumn = 'guibg=NONE', LineNr = 'guifg=#6e7681 guibg=NONE',
  CursorLine = 'guibg=#2a2d2e gui=NONE', CursorLineNr = 'guifg=#d4d4d4 gui=bold',
  NormalFloat = 'guifg=#d4d4d4 guibg=#252526', FloatBorder = 'guifg=#8b949e guibg=#252526',
  StatusLine = 'guifg=#d4d4d4 guibg=#3c3c3c gui=NONE', MsgArea = 'guifg=#a0a0a0',
}) do vim.cmd('highlight ' .. group .. ' ' .. spec) end
vim.o.number = true
vim.o.signcolumn = 'yes'
vim.o.cursorline = true
vim.o.laststatus = 2
vim.o.shortmess = vim.o.shortmess .. 'I'
vim.o.statusline = " %f %m%=%{v:lua.require'quorum'.status()}  %l:%c "
vim.diagnostic.config({virtual_text = {prefix = '●'}, signs = true, underline = true,
                       severity_sort = true, float = {border = 'rounded', source = 'always', max_width = 72}})

require('quorum').setup({cmd = {env('QUORUM_LS')},
                         settings = {configFile = env('QUORUM_CONFIG_FILE'), debounceMs = 200}})

local function done(what)
  local f = assert(io.open(env('CAPTURE_READY'), 'w'))
  f:write(what)
  f:close()
end

-- Polls every 100 ms until pred() holds, then runs then_(); done('timeout') after WAIT_MS.
local function after(pred, then_)
  local waited = 0
  local timer = vim.loop.new_timer()
  timer:start(100, 100, vim.schedule_wrap(function()
    waited = waited + 100
    if pred() then
      timer:close()
      then_()
    elseif waited > WAIT_MS then
      timer:close()
      done('timeout')
    end
  end))
end

vim.api.nvim_create_autocmd('VimEnter', {callback = function()
  local bufnr = vim.api.nvim_get_current_buf()
  local quorum = require('quorum')
  after(function()
    local c = quorum.client(bufnr)
    return c ~= nil and c.initialized
  end, function()
    vim.cmd('write') -- didSave starts the review, as for a user saving
    after(function() return quorum.status():find('findings') ~= nil end, function()
      local diags = vim.diagnostic.get(bufnr)
      table.sort(diags, function(a, b) return a.lnum < b.lnum end)
      if #diags == 0 then return done('no diagnostics') end
      vim.api.nvim_win_set_cursor(0, {diags[1].lnum + 1, diags[1].col})
      -- The float closes on CursorMoved, which fires for the move above on a later tick.
      vim.defer_fn(function()
        local _, win = vim.diagnostic.open_float()
        if win then vim.wo[win].linebreak = true end -- wrap the message at words
        vim.cmd('redraw')
        done('ready')
      end, 300)
    end)
  end)
end})
