import dataclasses
from typing import Iterable


@dataclasses.dataclass
class Item:
    name: str
    price: float = 0.0


def total(items: Iterable[Item]) -> float:
    """Sum the prices, skipping free items."""
    return sum(i.price for i in items if i.price > 0)


if __name__ == "__main__":
    basket = [Item("tea", 2.5), Item("bag")]
    print(f"total: {total(basket):.2f}")
