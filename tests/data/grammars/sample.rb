require 'json'

module Inventory
  class Item
    attr_reader :name, :qty

    def initialize(name, qty = 0)
      @name = name
      @qty = qty
    end

    def to_h
      { name: @name, qty: @qty }
    end
  end
end

items = [Inventory::Item.new('bolt', 3)]
puts JSON.generate(items.map(&:to_h)) if items.any?
