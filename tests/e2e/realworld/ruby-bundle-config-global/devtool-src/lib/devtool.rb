module Devtool; end
