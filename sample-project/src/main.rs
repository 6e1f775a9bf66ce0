fn main() {
    let greeting = greet("room");
    println!("{greeting}");
}

fn greet(name: &str) -> String {
    format!("Hello, {name}!")
}
