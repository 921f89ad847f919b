#include <map>
#include <string>
#include <vector>

namespace demo {

template <typename T>
class Counter {
 public:
  void add(const T &item) { counts_[item]++; }
  int get(const T &item) const {
    auto it = counts_.find(item);
    return it == counts_.end() ? 0 : it->second;
  }

 private:
  std::map<T, int> counts_;
};

}  // namespace demo

int main() {
  demo::Counter<std::string> c;
  std::vector<std::string> words{"a", "b", "a"};
  for (const auto &w : words) c.add(w);
  return c.get("a") == 2 ? 0 : 1;
}
