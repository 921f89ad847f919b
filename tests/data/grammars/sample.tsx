import React, { useState } from "react";

interface Props {
  label: string;
  start?: number;
}

export function Counter({ label, start = 0 }: Props) {
  const [count, setCount] = useState<number>(start);
  return (
    <div className="counter">
      <span>{label}: {count}</span>
      <button onClick={() => setCount(count + 1)}>+</button>
    </div>
  );
}
