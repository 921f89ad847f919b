package demo;

import java.util.ArrayList;
import java.util.List;

public final class Stack<T> {
  private final List<T> items = new ArrayList<>();

  public void push(T item) {
    items.add(item);
  }

  public T pop() {
    if (items.isEmpty()) {
      throw new IllegalStateException("empty");
    }
    return items.remove(items.size() - 1);
  }

  public static void main(String[] args) {
    Stack<String> s = new Stack<>();
    s.push("hello");
    System.out.println(s.pop());
  }
}
